"""Core replies as Telegram messages: HTML text, inline keyboards, photos and documents.

Telegram counts its 4,096-character limit on the visible text, after the HTML is parsed, so
the chat markup is split before rendering (markup is never shorter than what it shows)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.chat import markup
from core.chat.messages import Button, Buttons, Card, FilePart, Reply, Text

MAX_TEXT = 4096
MAX_CAPTION = 1024
PHOTO_MIMES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass(frozen=True)
class TextMessage:
    html: str
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class PhotoMessage:
    name: str
    data: bytes
    caption_html: str = ""
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class DocumentMessage:
    name: str
    data: bytes
    caption_html: str = ""
    keyboard: InlineKeyboardMarkup | None = None


Outgoing = TextMessage | PhotoMessage | DocumentMessage


HTML = markup.Style(
    escape=lambda text: html.escape(text, quote=False),
    bold="<b>{}</b>",
    italic="<i>{}</i>",
    code="<code>{}</code>",
    link='<a href="{url}">{text}</a>',
    escape_url=lambda url: html.escape(url, quote=True),
    bullet="• ",
)


def to_html(text: str) -> str:
    """The chat markup subset as Telegram HTML, every character of content escaped."""
    return markup.render(text, HTML)


def keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    buttons = [[InlineKeyboardButton(b.label, callback_data=b.action) for b in row] for row in rows]
    return InlineKeyboardMarkup(buttons) if buttons else None


def card_markup(card: Card) -> str:
    lines = [f"**{markup.escape(card.title)}**"]
    lines += [f"{markup.escape(key)}: {value}" for key, value in card.fields]
    return "\n".join(lines)


def render(reply: Reply) -> list[Outgoing]:
    """One reply as the Telegram messages that show it, in order; the buttons go on the
    last one."""
    messages: list[Outgoing] = []
    pending: list[str] = []
    rows: tuple[tuple[Button, ...], ...] = ()

    def flush_text() -> None:
        if pending:
            body = "\n\n".join(pending)
            pieces = markup.split_text(body, MAX_TEXT)
            # Markup that shows nothing (e.g. bold around a blank line) would be an empty
            # message, which Telegram refuses.
            shown = (piece for piece in pieces if markup.to_plain(piece).strip())
            messages.extend(TextMessage(to_html(piece)) for piece in shown)
            pending.clear()

    for part in reply.parts:
        if isinstance(part, Text):
            if part.text.strip():
                pending.append(part.text)
        elif isinstance(part, Buttons):
            rows += part.rows
        elif isinstance(part, Card) and part.image is None:
            pending.append(card_markup(part))
        elif isinstance(part, Card):
            flush_text()
            messages.extend(_photo(part.image_name, part.image or b"", card_markup(part)))
        elif isinstance(part, FilePart):
            flush_text()
            kind = PhotoMessage if part.mime in PHOTO_MIMES else DocumentMessage
            messages.append(kind(part.name, part.data))
    flush_text()
    return _with_keyboard(messages, keyboard(rows))


def _photo(name: str, data: bytes, caption: str) -> list[Outgoing]:
    if len(markup.to_plain(caption)) <= MAX_CAPTION:
        return [PhotoMessage(name, data, to_html(caption))]
    pieces = markup.split_text(caption, MAX_TEXT)
    return [PhotoMessage(name, data), *(TextMessage(to_html(p)) for p in pieces)]


def _with_keyboard(messages: list[Outgoing], board: InlineKeyboardMarkup | None) -> list[Outgoing]:
    if board is None:
        return messages
    if not messages:
        return [TextMessage("⬇️", board)]
    last = messages[-1]
    if isinstance(last, TextMessage):
        messages[-1] = TextMessage(last.html, board)
    elif isinstance(last, PhotoMessage):
        messages[-1] = PhotoMessage(last.name, last.data, last.caption_html, board)
    else:
        messages[-1] = DocumentMessage(last.name, last.data, last.caption_html, board)
    return messages


def render_live(reply: Reply) -> TextMessage:
    """A live message is one editable text message: its text (cut at the limit) and buttons."""
    text = "\n\n".join(
        p.text if isinstance(p, Text) else card_markup(p)
        for p in reply.parts
        if isinstance(p, Text | Card)
    )
    pieces = markup.split_text(text, MAX_TEXT - 1)
    body = pieces[0] + ("…" if len(pieces) > 1 else "")
    rows: tuple[tuple[Button, ...], ...] = ()
    for part in reply.parts:
        if isinstance(part, Buttons):
            rows += part.rows
    return TextMessage(to_html(body) or "…", keyboard(rows))
