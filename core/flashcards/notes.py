"""Note text: basic and cloze parsing, what each card shows, the content hash."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import ClassVar

from core.chat.markup import escape
from core.errors import BadInput

MAX_SIDE_CHARS = 4000
CLOZE_OPEN = re.compile(r"\{\{c(\d+)::")
CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
KINDS = ("basic", "reverse", "cloze")


@dataclass(frozen=True)
class NoteDraft:
    """A note before it is stored: checked, with the card ordinals it makes."""

    kind: str
    front: str
    back: str
    tags: str = ""

    @property
    def content_hash(self) -> str:
        raw = "\x1f".join((self.kind, self.front, self.back))
        return hashlib.sha256(raw.encode()).hexdigest()

    def ordinals(self) -> list[int]:
        if self.kind == "cloze":
            return cloze_numbers(self.front)
        if self.kind == "reverse":
            return [0, 1]
        return [0]


@dataclass(frozen=True)
class Parsed:
    """The notes read from an imported file, and how many of its notes were left out."""

    notes: list[NoteDraft]
    skipped: int = 0


def is_cloze(text: str) -> bool:
    return CLOZE_OPEN.search(text) is not None


def cloze_numbers(text: str) -> list[int]:
    """The distinct cloze numbers in the text, checked to be well formed."""
    check_cloze(text)
    return sorted({int(m.group(1)) for m in CLOZE.finditer(text)})


def check_cloze(text: str) -> None:
    openings = len(CLOZE_OPEN.findall(text))
    closed = CLOZE.findall(text)
    if openings != len(closed) or CLOZE_OPEN.search(CLOZE.sub("", text)):
        raise BadInput(
            "A cloze is not closed: write each one as {{c1::answer}} "
            "(or {{c1::answer::hint}}), with the closing }}."
        )
    if any(int(number) < 1 for number, _, _ in closed):
        raise BadInput("Cloze numbers start at 1: {{c1::...}}, {{c2::...}}.")
    if any(not answer.strip() for _, answer, _ in closed):
        raise BadInput("A cloze is empty: put the answer inside, e.g. {{c1::Paris}}.")


def make_note(front: str, back: str, *, reverse: bool = False, tags: str = "") -> NoteDraft:
    """Check and build a note. Cloze markers in the front make a cloze note (the back is
    an optional extra); otherwise both sides are required."""
    front, back = front.strip(), back.strip()
    for side in (front, back):
        if len(side) > MAX_SIDE_CHARS:
            raise BadInput(f"A card side can be at most {MAX_SIDE_CHARS} characters.")
    if is_cloze(front):
        if not cloze_numbers(front):
            raise BadInput("No cloze found: write them as {{c1::answer}}.")
        return NoteDraft("cloze", front, back, tags)
    if is_cloze(back):
        raise BadInput("Put cloze deletions ({{c1::...}}) on the front side.")
    if not front or not back:
        raise BadInput(
            "A card needs both sides: /card <front> | <back> "
            "(or a cloze text like /card The capital of France is {{c1::Paris}})."
        )
    return NoteDraft("reverse" if reverse else "basic", front, back, tags)


def card_sides(kind: str, front: str, back: str, ordinal: int) -> tuple[str, str]:
    """What a card asks and what it answers, in the chat markdown subset."""
    if kind == "cloze":
        return cloze_question(front, ordinal), _with_extra(cloze_answer(front, ordinal), back)
    if kind == "reverse" and ordinal == 1:
        return back, front
    return front, back


def cloze_question(text: str, number: int) -> str:
    def hide(m: re.Match[str]) -> str:
        if int(m.group(1)) != number:
            return m.group(2)
        return f"[{m.group(3)}]" if m.group(3) else "[...]"

    return CLOZE.sub(hide, text)


def cloze_answer(text: str, number: int) -> str:
    def show(m: re.Match[str]) -> str:
        return f"**{m.group(2)}**" if int(m.group(1)) == number else m.group(2)

    return CLOZE.sub(show, text)


def _with_extra(answer: str, extra: str) -> str:
    return f"{answer}\n\n{extra}" if extra else answer


# HTML fields -> chat markdown subset ------------------------------------------------------

_SOUND = re.compile(r"\[sound:[^\]]*\]")


class _FieldText(HTMLParser):
    _MARKS: ClassVar[dict[str, str]] = {"b": "**", "strong": "**", "i": "_", "em": "_"}
    _BREAKS: ClassVar[set[str]] = {"br", "div", "p", "li", "tr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._MARKS:
            self.out.append(self._MARKS[tag])
        elif tag in self._BREAKS and self.out:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._MARKS:
            self.out.append(self._MARKS[tag])

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data))


def html_to_text(field: str) -> str:
    """An Anki field (HTML) as text in the chat markdown subset: entities decoded, bold
    and italic kept, line breaks kept, other tags and media references dropped."""
    parser = _FieldText()
    parser.feed(_SOUND.sub("", field))
    parser.close()
    text = "".join(parser.out)
    text = re.sub(r"\*\*\*\*|(?<!\w)__(?!\w)", "", text)  # empty bold/italic
    return re.sub(r"\n{3,}", "\n\n", text).strip()
