"""Slack rendering: every reply becomes Block Kit that Slack accepts (at most 50 blocks,
section text 1-3,000 characters, fields within 2,000, button labels 1-75 characters) and
whose mrkdwn escapes &, < and > (only entities and whole links use them)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.slack.render import (
    BLOCK_LIMIT,
    BUTTON_LABEL_LIMIT,
    FIELD_LIMIT,
    SECTION_LIMIT,
    fallback_text,
    reply_blocks,
    to_mrkdwn,
)
from core.chat.messages import Button, Buttons, Card, Reply, Text

BITS = st.sampled_from(["**", "_", "`", "[l](https://e.org/x?a=1&b=<2>|)", "<", ">", "&", "\\",
                        "- ", "\n", "\n\n", " ", "<b>", "&amp;", "|", "<!here>", "&&"])  # fmt: skip
markupish = st.lists(st.one_of(BITS, st.text(max_size=8)), max_size=50).map("".join)
# Long runs without spaces force hard cuts, where a cut could fall inside "&amp;" or a link.
ENTITIES = st.sampled_from(["&", "<", ">", "a", "[x](https://e.org/a&b)"])
long_text = st.one_of(
    st.text(min_size=2500, max_size=4000),
    st.lists(ENTITIES, min_size=700, max_size=1200).map("".join),
)
actions = st.text(alphabet="abcdefghij.:0123456789", min_size=1, max_size=30)
buttons = st.builds(Button, st.text(max_size=100), actions)
cards = st.builds(
    Card,
    st.text(max_size=200),
    st.lists(st.tuples(st.text(max_size=50), st.one_of(markupish, long_text)), max_size=6).map(
        tuple
    ),
)
parts = st.one_of(
    markupish.map(Text),
    long_text.map(Text),
    st.lists(st.lists(buttons, min_size=1, max_size=6).map(tuple), min_size=1, max_size=6).map(
        lambda rows: Buttons(tuple(rows))
    ),
    cards,
)

ENTITY_OR_LINK = re.compile(r"&(amp|lt|gt);|<[^<>|]+\|[^<>]*>")


def check_mrkdwn(text: str) -> None:
    """Outside entities and whole links, no &, < or > is left unescaped."""
    rest = ENTITY_OR_LINK.sub("", text)
    assert not re.search(r"[&<>]", rest), text


def check_blocks(blocks: list[dict[str, object]]) -> None:
    assert len(blocks) <= BLOCK_LIMIT
    for block in blocks:
        if block["type"] == "section":
            text = block.get("text")
            if isinstance(text, dict):
                assert 0 < len(text["text"]) <= SECTION_LIMIT and text["text"].strip()
                check_mrkdwn(text["text"])
            for field in block.get("fields", []):  # type: ignore[attr-defined]
                assert 0 < len(field["text"]) <= FIELD_LIMIT
                check_mrkdwn(field["text"])
        elif block["type"] == "actions":
            elements = block["elements"]
            assert 1 <= len(elements) <= 25  # type: ignore[arg-type]
            for element in elements:  # type: ignore[attr-defined]
                assert 1 <= len(element["text"]["text"]) <= BUTTON_LABEL_LIMIT
                assert 1 <= len(element["value"]) <= 2000
        elif block["type"] == "header":
            assert 1 <= len(block["text"]["text"]) <= 150  # type: ignore[index]


@settings(max_examples=200, deadline=None)
@given(markupish)
def test_any_markup_renders_to_escaped_mrkdwn(text: str) -> None:
    check_mrkdwn(to_mrkdwn(text))


@settings(max_examples=60, deadline=None)
@given(st.lists(parts, max_size=5))
def test_every_reply_is_block_kit_slack_accepts(reply_parts: list[object]) -> None:
    reply = Reply(tuple(reply_parts))  # type: ignore[arg-type]
    blocks = reply_blocks(reply)
    check_blocks(blocks)
    text = fallback_text(reply)
    assert 0 < len(text) <= 3000


@settings(max_examples=25, deadline=None)
@given(st.lists(long_text, min_size=1, max_size=3))
def test_long_text_is_split_into_sections_without_breaking_entities(texts: list[str]) -> None:
    blocks = reply_blocks(Reply(tuple(Text(t) for t in texts)))
    check_blocks(blocks)
    assert blocks, "a non-blank text must show"
