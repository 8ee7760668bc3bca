"""Read notes from a CSV/TSV text export (Quizlet, Anki "Notes in Plain Text", our own
export) or an Anki .apkg package. Pure parsing, no database: the service stores the
result in one transaction."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import ClassVar

import zstandard

from core.chat.markup import escape
from core.errors import BadInput
from core.flashcards.notes import NoteDraft, make_note

MAX_TEXT_BYTES = 10 * 1024 * 1024
MAX_APKG_BYTES = 50 * 1024 * 1024
# The unpacked collection database; checked before it is read (zip bombs).
MAX_COLLECTION_BYTES = 200 * 1024 * 1024
MAX_NOTES = 20_000
MAX_FIELD_CHARS = 100_000

APKG_COLLECTIONS = ("collection.anki21", "collection.anki2")
_SOUND = re.compile(r"\[sound:[^\]]*\]")


@dataclass(frozen=True)
class Parsed:
    notes: list[NoteDraft]
    skipped: int = 0


def check_size(name: str, size: int) -> None:
    """Refuse a file by its announced size before fetching it."""
    limit = MAX_APKG_BYTES if is_apkg(name) else MAX_TEXT_BYTES
    if size > limit:
        raise BadInput(
            f"“{escape(name)}” is {size / 1e6:.1f} MB; I import files up to {limit // 2**20} MB. "
            "Split it into smaller files."
        )


def is_apkg(name: str) -> bool:
    return name.lower().endswith((".apkg", ".colpkg"))


def parse_file(name: str, data: bytes) -> Parsed:
    check_size(name, len(data))
    if is_apkg(name):
        return parse_apkg(data)
    if name.lower().endswith((".csv", ".tsv", ".txt")):
        return parse_text(data, tab=name.lower().endswith((".tsv", ".txt")))
    raise BadInput(
        f"I can import .csv, .tsv/.txt (front, back, tags) and Anki .apkg files, not “{name}”."
    )


# CSV / TSV -------------------------------------------------------------------------------


@dataclass
class _Header:
    delimiter: str | None = None
    html: bool = False
    tags_column: int | None = None  # 0-based
    dropped: tuple[int, ...] = ()  # guid, notetype and deck columns of Anki's export


_SEPARATORS = {"tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}


def parse_text(data: bytes, *, tab: bool = False) -> Parsed:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput("That file is not UTF-8 text. Save it as UTF-8 CSV and try again.") from None
    lines = text.splitlines(keepends=True)
    header, start = _read_header(lines)
    body = "".join(lines[start:])
    delimiter = header.delimiter or _guess_delimiter(body, tab)
    reader = csv.reader(io.StringIO(body), delimiter=delimiter)
    notes: list[NoteDraft] = []
    try:
        for index, row in enumerate(reader):
            if index > MAX_NOTES:
                raise BadInput(
                    f"That file has more than {MAX_NOTES:,} rows; I import up to "
                    f"{MAX_NOTES:,} cards at a time. Split it into smaller files."
                )
            draft = _row_note(row, header, start + index + 1, first=index == 0)
            if draft is not None:
                notes.append(draft)
    except csv.Error as err:
        raise _broken("That CSV file is malformed", err) from None
    if not notes:
        raise BadInput("I found no cards in that file. Each line needs: front, back[, tags].")
    return Parsed(notes)


def _read_header(lines: list[str]) -> tuple[_Header, int]:
    header = _Header()
    dropped: list[int] = []
    index = 0
    for index, line in enumerate(lines):  # noqa: B007  (index is used after the loop)
        if not line.startswith("#") or ":" not in line:
            break
        key, _, value = line[1:].strip().partition(":")
        key, value = key.strip().lower(), value.strip()
        if key == "separator":
            header.delimiter = _SEPARATORS.get(value.lower(), value[:1] or None)
        elif key == "html":
            header.html = value.lower() == "true"
        elif key == "tags column" and value.isdigit():
            header.tags_column = int(value) - 1
        elif key in ("guid column", "notetype column", "deck column") and value.isdigit():
            dropped.append(int(value) - 1)
    else:
        index = len(lines)
    header.dropped = tuple(dropped)
    return header, index


def _guess_delimiter(body: str, tab: bool) -> str:
    first = next((line for line in body.splitlines() if line.strip()), "")
    if tab or "\t" in first:
        return "\t"
    if ";" in first and "," not in first:
        return ";"
    return ","


_HEADER_ROWS = ({"front", "back"}, {"term", "definition"}, {"question", "answer"})


def _row_note(row: list[str], header: _Header, number: int, *, first: bool) -> NoteDraft | None:
    if any(len(cell) > MAX_FIELD_CHARS for cell in row):
        raise BadInput(f"Row {number} has a field over {MAX_FIELD_CHARS:,} characters.")
    tags = ""
    if header.tags_column is not None and header.tags_column < len(row):
        tags = row[header.tags_column]
    drop = {*header.dropped, *([header.tags_column] if header.tags_column is not None else [])}
    cells = [c for i, c in enumerate(row) if i not in drop]
    if not any(c.strip() for c in cells):
        return None
    if first and {c.strip().lower() for c in cells[:2]} in _HEADER_ROWS:
        return None
    if header.tags_column is None and len(cells) >= 3:
        tags, cells = cells[2], cells[:2] + cells[3:]
    kind = cells[2].strip().lower() if len(cells) >= 3 else ""
    if header.html:
        cells = [html_to_text(c) for c in cells]
    front = cells[0]
    back = cells[1] if len(cells) > 1 else ""
    try:
        return make_note(front, back, reverse=kind == "reverse", tags=" ".join(tags.split()))
    except BadInput as err:
        raise BadInput(f"Row {number}: {err.message} Nothing was imported.") from None


# Anki .apkg ------------------------------------------------------------------------------


def parse_apkg(data: bytes) -> Parsed:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise BadInput("That .apkg file is damaged: it is not a zip archive.") from None
    with archive:
        raw = _read_collection(archive)
    return _notes_from_collection(raw)


def _read_collection(archive: zipfile.ZipFile) -> bytes:
    """The collection database: Anki's current format (`collection.anki21b`, zstd) or the
    older ones (`collection.anki21`, `collection.anki2`)."""
    names = set(archive.namelist())
    if "collection.anki21b" in names:
        return _unzstd(_read_member(archive, "collection.anki21b"))
    member = next((n for n in APKG_COLLECTIONS if n in names), None)
    if member is None:
        raise BadInput("That zip is not an Anki package (it has no Anki collection inside).")
    return _read_member(archive, member)


def _read_member(archive: zipfile.ZipFile, member: str) -> bytes:
    info = archive.getinfo(member)
    if info.file_size > MAX_COLLECTION_BYTES:
        raise _too_big()
    try:
        with archive.open(info) as stream:
            # The announced size can lie: never read more than the limit.
            raw = stream.read(MAX_COLLECTION_BYTES + 1)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as err:
        raise _broken("That .apkg file is damaged", err) from None
    if len(raw) > MAX_COLLECTION_BYTES:
        raise _too_big()
    return raw


def _unzstd(compressed: bytes) -> bytes:
    chunks: list[bytes] = []
    total = 0
    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(compressed)) as reader:
            while chunk := reader.read(1024 * 1024):
                total += len(chunk)
                if total > MAX_COLLECTION_BYTES:
                    raise _too_big()
                chunks.append(chunk)
    except zstandard.ZstdError as err:
        raise _broken("That .apkg file is damaged", err) from None
    return b"".join(chunks)


def _broken(what: str, err: Exception) -> BadInput:
    return BadInput(f"{what} ({escape(str(err))}). Nothing was imported.")


def _too_big() -> BadInput:
    return BadInput(
        f"That .apkg unpacks to more than {MAX_COLLECTION_BYTES // 2**20} MB; "
        "I don't import packages that large. Split the deck in Anki and export the parts."
    )


@dataclass(frozen=True)
class _NoteType:
    cloze: bool
    templates: int


def _notes_from_collection(raw: bytes) -> Parsed:
    db = sqlite3.connect(":memory:")
    try:
        db.deserialize(raw)
        count = db.execute("SELECT count(*) FROM notes").fetchone()[0]
        if count > MAX_NOTES:
            raise BadInput(
                f"That deck has {count:,} notes; I import up to {MAX_NOTES:,} at a time. "
                "Split it in Anki and export the parts."
            )
        types = _note_types(db)
        rows = db.execute("SELECT mid, flds, tags FROM notes ORDER BY id").fetchall()
    except (sqlite3.DatabaseError, TypeError, ValueError, AttributeError) as err:
        raise _broken("That .apkg doesn't hold a readable Anki collection", err) from None
    finally:
        db.close()
    notes: list[NoteDraft] = []
    skipped = 0
    for mid, fields, tags in rows:
        draft = _anki_note(types.get(int(mid)), str(fields).split("\x1f"), str(tags))
        if draft is None:
            skipped += 1
        else:
            notes.append(draft)
    return Parsed(notes, skipped)


def _note_types(db: sqlite3.Connection) -> dict[int, _NoteType]:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "notetypes" in tables:
        # Schema 18: a protobuf config whose field 1 is the kind; prost writes fields in
        # tag order, so a cloze note type's config starts with 0x08 0x01.
        templates = dict(db.execute("SELECT ntid, count(*) FROM templates GROUP BY ntid"))
        return {
            int(ntid): _NoteType(bytes(config or b"")[:2] == b"\x08\x01", templates.get(ntid, 0))
            for ntid, config in db.execute("SELECT id, config FROM notetypes")
        }
    (models_json,) = db.execute("SELECT models FROM col").fetchone()
    models = json.loads(models_json)
    if not isinstance(models, dict):
        raise ValueError("no note types")
    return {
        int(mid): _NoteType(m.get("type") == 1, len(m.get("tmpls") or []))
        for mid, m in models.items()
        if isinstance(m, dict)
    }


def _anki_note(note_type: _NoteType | None, fields: list[str], tags: str) -> NoteDraft | None:
    """A note from Anki's fields, or None when its note type can't be shown as text cards
    (fewer than two fields, or nothing left once media is dropped)."""
    if note_type is None:
        return None
    texts = [html_to_text(f) for f in fields]
    tag_text = " ".join(tags.split())
    try:
        if note_type.cloze:
            return make_note(texts[0], texts[1] if len(texts) > 1 else "", tags=tag_text)
        if len(texts) < 2:
            return None
        return make_note(texts[0], texts[1], reverse=note_type.templates >= 2, tags=tag_text)
    except BadInput:
        return None


# HTML fields -> chat markdown subset ------------------------------------------------------


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
