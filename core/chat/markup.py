"""The chat markdown subset every renderer understands.

`**bold**`, `_italic_`, `` `code` ``, `[label](https://url)`; lines starting with `- `
are list items. A backslash escapes the next character. Renderers turn `spans()` into
their platform's markup; `to_plain` drops the markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

SpanKind = Literal["text", "bold", "italic", "code", "link"]

_SPECIAL = re.compile(r"([\\*_`\[\]])")
_TOKEN = re.compile(
    r"\\(?P<esc>.)"
    r"|\*\*(?P<bold>(?:\\.|[^*])+?)\*\*"
    r"|(?<![\w])_(?P<italic>(?:\\.|[^_])+?)_(?![\w])"
    r"|`(?P<code>[^`]+)`"
    r"|\[(?P<label>(?:\\.|[^\]])+)\]\((?P<url>https?://[^)\s]+)\)",
    re.DOTALL,
)
_UNESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Span:
    kind: SpanKind
    text: str
    url: str = ""


def escape(text: str) -> str:
    """Make user-supplied text safe to put inside markup."""
    return _SPECIAL.sub(r"\\\1", text)


def shorten(text: str, limit: int = 60) -> str:
    """User text quoted back in a reply: one line, at most `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`1 passage`, `2 passages`, `1,200 cards`."""
    word = noun if n == 1 else plural or noun + "s"
    return f"{n:,} {word}"


def spans(text: str) -> list[Span]:
    """Split marked-up text into typed spans, with escapes resolved."""
    out: list[Span] = []
    pos = 0
    plain: list[str] = []

    def flush() -> None:
        if plain:
            out.append(Span("text", "".join(plain)))
            plain.clear()

    for m in _TOKEN.finditer(text):
        plain.append(text[pos : m.start()])
        pos = m.end()
        if m.group("esc") is not None:
            plain.append(m.group("esc"))
            continue
        flush()
        if m.group("bold") is not None:
            out.append(Span("bold", _UNESCAPE.sub(r"\1", m.group("bold"))))
        elif m.group("italic") is not None:
            out.append(Span("italic", _UNESCAPE.sub(r"\1", m.group("italic"))))
        elif m.group("code") is not None:
            out.append(Span("code", m.group("code")))
        else:
            out.append(Span("link", _UNESCAPE.sub(r"\1", m.group("label")), m.group("url")))
    plain.append(text[pos:])
    flush()
    return [s for s in out if s.text or s.kind == "link"]


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class Style:
    """How one platform writes the markup: `escape` makes plain text safe, the templates wrap
    escaped content (`{}`; links get `{text}` and `{url}`), `bullet` replaces a leading `- `."""

    escape: Callable[[str], str]
    bold: str = "{}"
    italic: str = "{}"
    code: str = "{}"
    link: str = "{text} ({url})"
    escape_code: Callable[[str], str] | None = None
    escape_url: Callable[[str], str] = _same
    bullet: str | None = None


def render(text: str, style: Style) -> str:
    """The markup as a platform's own format (Telegram HTML, Slack mrkdwn, Discord...)."""
    if style.bullet is not None:
        text = "\n".join(
            style.bullet + line[2:] if line.startswith("- ") else line for line in text.split("\n")
        )
    out: list[str] = []
    for span in spans(text):
        if span.kind == "code":
            out.append(style.code.format((style.escape_code or style.escape)(span.text)))
        elif span.kind == "link":
            out.append(
                style.link.format(text=style.escape(span.text), url=style.escape_url(span.url))
            )
        elif span.kind == "bold":
            out.append(style.bold.format(style.escape(span.text)))
        elif span.kind == "italic":
            out.append(style.italic.format(style.escape(span.text)))
        else:
            out.append(style.escape(span.text))
    return "".join(out)


def to_plain(text: str) -> str:
    parts: list[str] = []
    for span in spans(text):
        if span.kind == "link" and span.url != span.text:
            parts.append(f"{span.text} ({span.url})")
        else:
            parts.append(span.text)
    return "".join(parts)


def split_text(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most `limit` characters, preferring paragraph breaks,
    then line breaks, then spaces; a word longer than the limit is cut."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            idx = window.rfind(sep, 0, limit + 1)
            if idx > 0:
                cut = idx
                break
        if cut <= 0:
            pieces.append(rest[:limit])
            rest = rest[limit:]
        else:
            pieces.append(rest[:cut].rstrip())
            rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    # A hard cut can leave a piece of only whitespace (e.g. "\r"); platforms reject those.
    shown = [p for p in pieces if p.strip()]
    return shown or pieces[:1]
