"""The hostile files of the security review, run again: each is built here, handed to
the code that reads uploads, and must end in a clear refusal (or correct text) within its
time and memory bounds.

    python -m bench.file_attacks

One line per attack: outcome, seconds, resident memory growth. Exits 1 if any attack
was not answered clearly within 60 s and 100 MB.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections.abc import Callable

import zstandard

from core.documents.extraction import ExtractionError, docx_blocks, sniff
from core.errors import BadInput
from core.flashcards.importing import parse_file
from tests import doc_samples
from tests.anki_samples import (
    NOTES_COLUMNS,
    collection,
    package,
    zip_of_empty_entries,
    zstd_bomb,
)
from tests.support.memory import peak_rss_growth_mb

SECONDS = 60.0
MEGABYTES = 100.0


def recursive_view() -> bytes:
    view = (
        "CREATE VIEW notes AS WITH RECURSIVE r(id, mid, tags, flds) AS ("
        " SELECT 1, 1, '', 'a' UNION ALL SELECT id + 1, mid, tags, flds FROM r) SELECT * FROM r"
    )
    return package(collection(view))


def computed_column() -> bytes:
    db = sqlite3.connect(":memory:")
    db.executescript(
        "CREATE TABLE col (models TEXT); INSERT INTO col VALUES ('{}');"
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, mid INTEGER, tags TEXT,"
        " flds TEXT GENERATED ALWAYS AS (printf('%.*c', 500000000, 'x')) VIRTUAL);"
        "INSERT INTO notes (id, mid, tags) VALUES (1, 1, '');"
    )
    return package(db.serialize())


def wide_window() -> bytes:
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=30)
    compressor = zstandard.ZstdCompressor(compression_params=params).compressobj()
    raw = collection(f"CREATE TABLE notes ({NOTES_COLUMNS})", rows=1)
    return package(compressor.compress(raw) + compressor.flush(), "collection.anki21b")


def billion_laughs() -> bytes:
    laughs = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    document = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY l0 "ha">{laughs}]>'
        f"<w:document {doc_samples.WORD_NS}><w:body><w:p><w:r><w:t>&l9;</w:t></w:r></w:p>"
        "</w:body></w:document>"
    ).encode()
    return doc_samples.docx_with_body("", replace={"word/document.xml": document})


def import_file(name: str, make: Callable[[], bytes]) -> Callable[[], str]:
    data = make()
    return lambda: f"{len(data):,} B → imported {len(parse_file(name, data).notes)} notes"


def read_document(name: str, make: Callable[[], bytes]) -> Callable[[], str]:
    data = make()

    def run() -> str:
        sniff(data, name)
        blocks = docx_blocks(data, name)
        return f"{len(data):,} B → read {len(blocks)} blocks"

    return run


def zstd_package() -> bytes:
    return package(zstd_bomb(256), "collection.anki21b")


def crowded_package() -> bytes:
    return zip_of_empty_entries(60_000, ("collection.anki2",))


def crowded_docx() -> bytes:
    return zip_of_empty_entries(60_000, ("[Content_Types].xml", "word/document.xml"))


def long_field() -> bytes:
    return b"a," + b"b" * 200_000


def large_docx() -> bytes:
    return doc_samples.large_docx(1400)


ATTACKS: list[tuple[str, Callable[[], Callable[[], str]]]] = [
    (".apkg: notes is an endless recursive view", lambda: import_file("v.apkg", recursive_view)),
    (".apkg: zstd bomb (256 MB of zeros)", lambda: import_file("z.apkg", zstd_package)),
    (".apkg: zstd frame with a 1 GB window", lambda: import_file("w.apkg", wide_window)),
    (".apkg: computed 500 MB column", lambda: import_file("c.apkg", computed_column)),
    (".apkg: 60,000 zip entries", lambda: import_file("e.apkg", crowded_package)),
    (".csv: a 200,000-character field", lambda: import_file("f.csv", long_field)),
    (".docx: 10 MB of document XML", lambda: read_document("big.docx", large_docx)),
    (
        ".docx: zip bomb (300 MB of zeros)",
        lambda: read_document("b.docx", doc_samples.docx_zip_bomb),
    ),
    (".docx: billion laughs", lambda: read_document("laughs.docx", billion_laughs)),
    (".docx: 60,000 zip entries", lambda: read_document("e.docx", crowded_docx)),
]


def run_bounded(work: Callable[[], str]) -> tuple[str, float, float]:
    outcome: list[tuple[float, object]] = []

    def target() -> None:
        outcome.append(peak_rss_growth_mb(work))

    started = time.perf_counter()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(SECONDS)
    seconds = time.perf_counter() - started
    if not outcome:
        return "STILL RUNNING", seconds, float("nan")
    growth, result = outcome[0]
    if isinstance(result, BadInput | ExtractionError):
        return f"refused: {result.message}", seconds, growth
    if isinstance(result, BaseException):
        return f"CRASHED: {type(result).__name__}: {result}", seconds, growth
    return str(result), seconds, growth


def main() -> int:
    failures = 0
    for label, build in ATTACKS:
        text, seconds, growth = run_bounded(build())
        ok = not text.startswith(("STILL", "CRASHED")) and seconds < SECONDS
        ok = ok and growth < MEGABYTES
        failures += not ok
        print(f"{'ok ' if ok else 'BAD'} {label:<44} {seconds:6.2f} s {growth:6.0f} MB  {text}")
    print(f"{len(ATTACKS) - failures} answered clearly, {failures} not")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
