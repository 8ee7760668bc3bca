"""Core replies as Slack Block Kit and mrkdwn."""

from __future__ import annotations

from typing import Any

from core.chat.markup import Style, render, split_text
from core.chat.messages import Buttons, Card, Reply, Text

SECTION_LIMIT = 3000  # characters in one section's text
BLOCK_LIMIT = 50  # blocks in one message
BUTTONS_PER_ACTIONS_BLOCK = 25
BUTTON_LABEL_LIMIT = 75
FIELDS_PER_SECTION = 10
FIELD_LIMIT = 2000
ACTION_PREFIX = "teddy-"

Block = dict[str, Any]


def escape_mrkdwn(text: str) -> str:
    """Slack needs only &, < and > escaped in mrkdwn text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_url(url: str) -> str:
    """A link's URL in `<url|text>`: escaped like text, and no `|` (it ends the URL)."""
    return escape_mrkdwn(url).replace("|", "%7C")


MRKDWN = Style(
    escape=escape_mrkdwn,
    escape_url=_escape_url,
    bold="*{}*",
    italic="_{}_",
    code="`{}`",
    link="<{url}|{text}>",
    bullet="• ",
)


def to_mrkdwn(text: str) -> str:
    return render(text, MRKDWN)


def reply_blocks(reply: Reply) -> list[Block]:
    """Blocks for one reply. Text beyond what 50 blocks hold is cut with a note, never sent
    as an invalid message."""
    blocks: list[Block] = []
    for part in reply.parts:
        if isinstance(part, Text):
            for piece in mrkdwn_pieces(part.text, SECTION_LIMIT):
                blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": piece}})
        elif isinstance(part, Buttons):
            blocks.extend(_action_blocks(part, start=_button_count(blocks)))
        elif isinstance(part, Card):
            blocks.extend(_card_blocks(part))
    if len(blocks) > BLOCK_LIMIT:
        note = {"type": "context", "elements": [{"type": "mrkdwn", "text": "(message shortened)"}]}
        blocks = [*blocks[: BLOCK_LIMIT - 1], note]
    return blocks


def mrkdwn_pieces(text: str, limit: int, budget: int | None = None) -> list[str]:
    """The text as mrkdwn pieces of at most `limit` characters, none blank. The markup is
    split before it is rendered, so a cut never falls inside an entity (`&amp;`) or a link;
    a piece that escaping made too long is split again, smaller."""
    budget = budget or limit
    pieces: list[str] = []
    for piece in split_text(text, budget):
        rendered = to_mrkdwn(piece)
        if len(rendered) > limit and budget > 1:
            pieces.extend(mrkdwn_pieces(piece, limit, budget // 2))
        elif rendered.strip():
            pieces.append(rendered)
    return pieces


def _button_count(blocks: list[Block]) -> int:
    return sum(len(b["elements"]) for b in blocks if b["type"] == "actions")


def _action_blocks(part: Buttons, start: int) -> list[Block]:
    buttons = [button for row in part.rows for button in row]
    elements = [
        {
            "type": "button",
            "text": {
                "type": "plain_text",
                "text": button.label.strip()[:BUTTON_LABEL_LIMIT] or "·",
                "emoji": True,
            },
            # action_id must be unique within a message; the core action id travels as value.
            "action_id": f"{ACTION_PREFIX}{start + i}",
            "value": button.action,
        }
        for i, button in enumerate(buttons)
    ]
    return [
        {"type": "actions", "elements": elements[i : i + BUTTONS_PER_ACTIONS_BLOCK]}
        for i in range(0, len(elements), BUTTONS_PER_ACTIONS_BLOCK)
    ]


def _card_blocks(card: Card) -> list[Block]:
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": card.title.strip()[:150] or "·"}}
    ]
    fields = [{"type": "mrkdwn", "text": _field(k, v)} for k, v in card.fields]
    for i in range(0, len(fields), FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": fields[i : i + FIELDS_PER_SECTION]})
    return blocks


def _field(name: str, value: str) -> str:
    """`*name*` and the value's first piece, within a field's limit (cut with an ellipsis)."""
    head = f"*{escape_mrkdwn(name[:100])}*\n"
    pieces = mrkdwn_pieces(value, FIELD_LIMIT - len(head) - 1)
    return head + (pieces[0] + ("…" if len(pieces) > 1 else "") if pieces else "")


def fallback_text(reply: Reply) -> str:
    """The notification/preview text Slack shows where blocks are not rendered."""
    text = reply.plain_text()
    return text[:3000] or "Study Teddy"
