"""Discord rendering: every reply becomes messages Discord accepts: content within 2,000
characters and never only whitespace, at most 10 embeds of at most 6,000 characters in all
(title 256, 25 fields, names 256 and values 1,024, never blank), at most 5 rows of 5
buttons with labels of 1-80 characters and custom ids within 100; never an empty message."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.discord.render import Message, render
from core.chat.messages import Button, Buttons, Card, FilePart, Reply, Text

BITS = st.sampled_from(["**", "_", "`", "[l](https://e.org/x?a=1)", "*", "~", "\\", "@everyone",
                        "<@123>", "- ", "\n", "\n\n", " ", "||", ">", "#", "\t"])  # fmt: skip
markupish = st.lists(st.one_of(BITS, st.text(max_size=8)), max_size=50).map("".join)
long_text = st.text(min_size=1500, max_size=4000)
blank = st.sampled_from(["", " ", "\n\n", " \t\n", "\u3000"])
actions = st.text(alphabet="abcdefghij.:0123456789", min_size=1, max_size=64)
buttons = st.builds(Button, st.text(max_size=100), actions)
cards = st.builds(
    Card,
    st.text(max_size=300),
    st.lists(
        st.tuples(st.one_of(st.text(max_size=300), blank), st.one_of(markupish, long_text, blank)),
        max_size=27,
    ).map(tuple),
)
parts = st.one_of(
    markupish.map(Text),
    long_text.map(Text),
    blank.map(Text),
    st.lists(st.lists(buttons, min_size=1, max_size=7).map(tuple), min_size=1, max_size=7).map(
        lambda rows: Buttons(tuple(rows))
    ),
    cards,
)


def check(message: Message) -> None:
    content = message.content
    assert len(content) <= 2000
    assert not content or content.strip(), "Discord rejects whitespace-only content"
    components: list[dict[str, Any]] = message.view.to_components() if message.view else []
    assert content or message.embeds or components or message.files, "an empty message"
    assert len(message.embeds) <= 10
    total = 0
    for embed in message.embeds:
        data = embed.to_dict()
        title = data.get("title", "")
        assert len(title) <= 256
        fields = data.get("fields", [])
        assert len(fields) <= 25
        for field in fields:
            assert 1 <= len(field["name"]) <= 256 and field["name"].strip()
            assert 1 <= len(field["value"]) <= 1024 and field["value"].strip()
            total += len(field["name"]) + len(field["value"])
        total += len(title) + len(data.get("description", ""))
    assert total <= 6000, f"embeds of {total} characters"
    assert len(components) <= 5
    for row in components:
        assert 1 <= len(row["components"]) <= 5
        for button in row["components"]:
            assert 1 <= len(button["label"]) <= 80
            assert len(button["custom_id"]) <= 100


@settings(max_examples=60, deadline=None)
@given(st.lists(parts, max_size=5), st.booleans())
def test_every_reply_renders_to_messages_discord_accepts(
    reply_parts: list[object], with_file: bool
) -> None:
    files = (FilePart("notes.txt", b"x", "text/plain"),) if with_file else ()
    reply = Reply(tuple(reply_parts) + files)  # type: ignore[arg-type]
    messages = render(reply)
    assert messages, "the adapter edits with the last message: there is always one"
    for message in messages:
        check(message)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(blank, markupish).map(Text), min_size=1, max_size=3))
def test_blank_or_odd_text_never_yields_an_empty_message(texts: list[Text]) -> None:
    for message in render(Reply(tuple(texts))):
        check(message)
