"""Read the notes of an Anki package: `.apkg` (a deck) or `.colpkg` (a whole collection).

A package is a zip around an SQLite database that anyone can craft, so nothing in it is
trusted. The collection is unpacked to a private temporary file with its size capped
while it streams (zip and zstd bombs, sizes that lie), opened read-only and immutable;
only plain tables are read, values are capped in length, and every query runs under a
time and step budget. Whatever goes wrong ends in a `BadInput` saying what, with nothing
imported."""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import zstandard

from core import archives
from core.chat.markup import escape
from core.errors import BadInput
from core.flashcards.notes import NoteDraft, Parsed, html_to_text, make_note

MAX_APKG_BYTES = 50 * 1024 * 1024
# The unpacked collection database, counted while it streams out (zip and zstd bombs).
MAX_COLLECTION_BYTES = 200 * 1024 * 1024
MAX_NOTES = 20_000
MAX_NOTE_TYPES = 10_000
# Anki compresses with small zstd windows (2 MB at its level); a frame that asks for more
# memory than this is refused instead of given it.
MAX_ZSTD_WINDOW = 32 * 1024 * 1024
# The longest value SQLite may produce (a note's fields together, the note types' JSON):
# a computed column cannot build a 500 MB string from a few bytes of schema.
MAX_VALUE_BYTES = 16 * 1024 * 1024
# What all queries on one collection may cost: wall time and SQLite VM instructions.
MAX_SECONDS = 20.0
MAX_STEPS = 500_000_000
STEPS_PER_CHECK = 10_000

COLLECTIONS = ("collection.anki21b", "collection.anki21", "collection.anki2")
_ZSTD_MEMBER = "collection.anki21b"
_CHUNK = 1024 * 1024


def parse_apkg(data: bytes) -> Parsed:
    """The notes of an Anki package, or a BadInput that says why it can't be read."""
    if archives.too_many_entries(data):
        raise BadInput(
            "That .apkg lists far more files than a deck has; I won't open it. "
            "Export the deck again (without media if it has tens of thousands of files)."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise BadInput("That .apkg file is damaged: it is not a zip archive.") from None
    with archive, tempfile.TemporaryDirectory(prefix="teddy-anki-") as folder:
        path = Path(folder) / "collection.db"
        _unpack_collection(archive, path)
        return _read_collection(path)


# Unpacking ---------------------------------------------------------------------------------


def _unpack_collection(archive: zipfile.ZipFile, path: Path) -> None:
    """Anki's current format (`collection.anki21b`, zstd) or the older ones, written to
    `path` a chunk at a time; never more than MAX_COLLECTION_BYTES, whatever the headers
    announce."""
    names = set(archive.namelist())
    member = next((n for n in COLLECTIONS if n in names), None)
    if member is None:
        raise BadInput("That zip is not an Anki package (it has no Anki collection inside).")
    info = archive.getinfo(member)
    if member != _ZSTD_MEMBER and info.file_size > MAX_COLLECTION_BYTES:
        raise _too_big()
    try:
        with archive.open(info) as stream, path.open("wb") as out:
            if member == _ZSTD_MEMBER:
                decompressor = zstandard.ZstdDecompressor(max_window_size=MAX_ZSTD_WINDOW)
                with decompressor.stream_reader(stream) as reader:
                    _copy_capped(reader, out)
            else:
                _copy_capped(stream, out)
    except (zipfile.BadZipFile, zstandard.ZstdError, ValueError, EOFError) as err:
        raise _broken("That .apkg file is damaged", err) from None
    except (OSError, NotImplementedError) as err:  # unsupported compression, bad offsets
        raise _broken("That .apkg file is damaged", err) from None


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _copy_capped(source: _Readable, out: BinaryIO) -> None:
    total = 0
    while chunk := source.read(_CHUNK):
        total += len(chunk)
        if total > MAX_COLLECTION_BYTES:
            raise _too_big()
        out.write(chunk)


# Reading ----------------------------------------------------------------------------------


class _Budget:
    """The time and VM steps left for one collection; SQLite interrupts a query (and the
    note loop stops) once either runs out."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.deadline = time.monotonic() + MAX_SECONDS
        self.checks_left = MAX_STEPS // STEPS_PER_CHECK
        self.spent = False
        db.set_progress_handler(self._tick, STEPS_PER_CHECK)

    def _tick(self) -> int:
        self.checks_left -= 1
        if self.checks_left < 0 or time.monotonic() > self.deadline:
            self.spent = True
        return int(self.spent)

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            self.spent = True
            raise _too_slow()


def _open_read_only(path: Path) -> sqlite3.Connection:
    # immutable: no locks, no journal or WAL file is looked for; nothing can be written.
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
    db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    db.execute("PRAGMA trusted_schema = OFF")
    db.execute("PRAGMA cell_size_check = ON")
    return db


def _read_collection(path: Path) -> Parsed:
    try:
        db = _open_read_only(path)
    except sqlite3.Error as err:
        raise _broken("That .apkg doesn't hold a readable Anki collection", err) from None
    budget = _Budget(db)
    try:
        kinds = dict(db.execute("SELECT name, type FROM sqlite_master LIMIT 100000").fetchall())
        _require_tables(kinds, "notes")
        _require_stored_columns(db, "notes")
        types = _note_types(db, kinds)
        return _notes(db, types, budget)
    except sqlite3.Error as err:
        if budget.spent:
            raise _too_slow() from None
        raise _broken("That .apkg doesn't hold a readable Anki collection", err) from None
    except (TypeError, ValueError, AttributeError, RecursionError) as err:
        raise _broken("That .apkg doesn't hold a readable Anki collection", err) from None
    finally:
        db.close()


def _require_tables(kinds: dict[str, str], *names: str) -> None:
    """Views (which can recurse forever) and virtual tables stand in for nothing of Anki's."""
    for name in names:
        if name not in kinds:
            raise _unreadable(f"it has no “{name}” table")
        if kinds[name] != "table":
            raise _unreadable(f"its “{name}” is not a plain table")


def _require_stored_columns(db: sqlite3.Connection, *tables: str) -> None:
    """Anki never computes a column; a computed one is work hidden in the schema."""
    for table in tables:
        computed = db.execute(
            "SELECT count(*) FROM pragma_table_xinfo(?) WHERE hidden IN (2, 3)", (table,)
        ).fetchone()[0]
        if computed:
            raise _unreadable(f"its “{table}” table has computed columns")


def _notes(db: sqlite3.Connection, types: dict[int, _NoteType], budget: _Budget) -> Parsed:
    (count,) = db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM notes LIMIT ?)", (MAX_NOTES + 1,)
    ).fetchone()
    if count > MAX_NOTES:
        raise BadInput(
            f"That deck has more than {MAX_NOTES:,} notes; I import up to {MAX_NOTES:,} at a "
            "time. Split it in Anki and export the parts."
        )
    notes: list[NoteDraft] = []
    skipped = 0
    rows = db.execute("SELECT mid, flds, tags FROM notes ORDER BY id LIMIT ?", (MAX_NOTES,))
    for mid, fields, tags in rows:
        budget.check()
        draft = _anki_note(types.get(int(mid)), str(fields).split("\x1f"), str(tags))
        if draft is None:
            skipped += 1
        else:
            notes.append(draft)
    return Parsed(notes, skipped)


@dataclass(frozen=True)
class _NoteType:
    cloze: bool
    templates: int


def _note_types(db: sqlite3.Connection, kinds: dict[str, str]) -> dict[int, _NoteType]:
    if "notetypes" in kinds:
        _require_tables(kinds, "notetypes", "templates")
        _require_stored_columns(db, "notetypes", "templates")
        # Schema 18: a protobuf config whose field 1 is the kind; prost writes fields in
        # tag order, so a cloze note type's config starts with 0x08 0x01.
        templates = dict(
            db.execute(
                "SELECT ntid, count(*) FROM templates GROUP BY ntid LIMIT ?", (MAX_NOTE_TYPES,)
            ).fetchall()
        )
        rows = db.execute("SELECT id, config FROM notetypes LIMIT ?", (MAX_NOTE_TYPES,))
        return {
            int(ntid): _NoteType(bytes(config or b"")[:2] == b"\x08\x01", templates.get(ntid, 0))
            for ntid, config in rows
        }
    _require_tables(kinds, "col")
    _require_stored_columns(db, "col")
    row = db.execute("SELECT models FROM col LIMIT 1").fetchone()
    if row is None:
        raise ValueError("no note types")
    models = json.loads(row[0])
    if not isinstance(models, dict):
        raise ValueError("no note types")
    return {
        int(mid): _NoteType(m.get("type") == 1, len(m.get("tmpls") or []))
        for mid, m in list(models.items())[:MAX_NOTE_TYPES]
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


# Messages -----------------------------------------------------------------------------------


def _broken(what: str, err: Exception) -> BadInput:
    return BadInput(f"{what} ({escape(str(err))}). Nothing was imported.")


def _unreadable(why: str) -> BadInput:
    return BadInput(
        f"That .apkg doesn't hold a readable Anki collection: {why}. Nothing was imported."
    )


def _too_big() -> BadInput:
    return BadInput(
        f"That .apkg unpacks to more than {MAX_COLLECTION_BYTES // 2**20} MB; "
        "I don't import packages that large. Split the deck in Anki and export the parts."
    )


def _too_slow() -> BadInput:
    return BadInput(
        "Reading that .apkg took too long, so I stopped: the collection inside looks "
        "damaged. Export the deck from Anki again and send that. Nothing was imported."
    )
