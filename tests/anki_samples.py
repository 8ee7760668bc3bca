"""Anki collections and zips made on the fly for the import tests and the file-attack
replay (bench/file_attacks.py): plain ones and ones built to hurt."""

from __future__ import annotations

import io
import sqlite3
import zipfile

import zstandard

NOTES_COLUMNS = (
    "id INTEGER PRIMARY KEY, guid TEXT, mid INTEGER, mod INTEGER, usn INTEGER, tags TEXT,"
    " flds TEXT, sfld TEXT, csum INTEGER, flags INTEGER, data TEXT"
)
BASIC_MODELS = '{"1": {"type": 0, "tmpls": [{"name": "Card 1"}]}}'


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buf.getvalue()


def collection(
    notes_sql: str, rows: int = 0, col_sql: str = "CREATE TABLE col (models TEXT)"
) -> bytes:
    """An old-format (schema 11) collection whose `notes` is defined by `notes_sql`."""
    db = sqlite3.connect(":memory:")
    db.execute(col_sql)
    if col_sql.startswith("CREATE TABLE"):
        db.execute("INSERT INTO col VALUES (?)", (BASIC_MODELS,))
    db.execute(notes_sql)
    if rows:
        db.executemany(
            "INSERT INTO notes (id, mid, tags, flds) VALUES (?, 1, '', ?)",
            [(i, f"front {i}\x1fback {i}") for i in range(1, rows + 1)],
        )
    db.commit()
    return db.serialize()


def package(raw: bytes, member: str = "collection.anki2") -> bytes:
    return _zip({member: raw})


def zstd_bomb(megabytes: int) -> bytes:
    """`megabytes` of zeros, zstd-compressed in a stream (never held whole here)."""
    compressor = zstandard.ZstdCompressor().compressobj()
    zeros = b"\0" * (1 << 20)
    out = [compressor.compress(zeros) for _ in range(megabytes)]
    out.append(compressor.flush())
    return b"".join(out)


def zip_of_empty_entries(count: int, first: tuple[str, ...] = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        for name in first:
            archive.writestr(name, b"<x/>")
        for i in range(count):
            archive.writestr(f"m/{i}", b"")
    return buf.getvalue()
