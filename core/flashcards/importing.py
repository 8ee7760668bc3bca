"""Read notes from a CSV/TSV text export (Quizlet, Anki "Notes in Plain Text", our own
export) or an Anki package (`anki_package`). Pure parsing, no database: the service
stores the result in one transaction."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from core.chat.markup import escape
from core.errors import BadInput
from core.flashcards.anki_package import MAX_APKG_BYTES, MAX_NOTES, parse_apkg
from core.flashcards.notes import NoteDraft, Parsed, html_to_text, make_note

__all__ = ["MAX_APKG_BYTES", "MAX_NOTES", "Parsed", "html_to_text", "parse_apkg", "parse_file"]

MAX_TEXT_BYTES = 10 * 1024 * 1024
MAX_FIELD_CHARS = 100_000


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
        text = _decode(data)
    except UnicodeDecodeError:
        raise BadInput(
            "That file is not UTF-8 or UTF-16 text. Save it as UTF-8 CSV and try again."
        ) from None
    lines = text.splitlines(keepends=True)
    header, start = _read_header(lines)
    body = "".join(lines[start:])
    delimiter = header.delimiter or _guess_delimiter(body, tab)
    reader = csv.reader(io.StringIO(body), delimiter=delimiter)
    notes: list[NoteDraft] = []
    rows_read = 0
    try:
        for row in reader:
            if rows_read > MAX_NOTES:
                raise BadInput(
                    f"That file has more than {MAX_NOTES:,} rows; I import up to "
                    f"{MAX_NOTES:,} cards at a time. Split it into smaller files."
                )
            draft = _row_note(row, header, start + rows_read + 1, first=rows_read == 0)
            if draft is not None:
                notes.append(draft)
            rows_read += 1
    except csv.Error as err:
        # The csv module stops at its own field limit (131,072) before _row_note can
        # measure the field: the same refusal, for the row it was reading.
        if "field larger than field limit" in str(err):
            raise _long_field(start + rows_read + 1) from None
        raise BadInput(
            f"That CSV file is malformed ({escape(str(err))}). Nothing was imported."
        ) from None
    if not notes:
        raise BadInput("I found no cards in that file. Each line needs: front, back[, tags].")
    return Parsed(notes)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), or UTF-16 with its BOM (Excel's "Unicode Text").
    Other encodings are refused rather than guessed: a wrong guess garbles every card."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig")


def _long_field(number: int) -> BadInput:
    return BadInput(
        f"Row {number} has a field over {MAX_FIELD_CHARS:,} characters; a card side holds "
        "far less. Shorten it and send the file again. Nothing was imported."
    )


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
        raise _long_field(number)
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
