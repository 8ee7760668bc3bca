"""Anki packages built to hurt: databases that never finish, zstd and zip bombs, values
that swell in memory. Each must end in a clear BadInput, fast and in little memory."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

import pytest
import zstandard

from core.errors import BadInput
from core.flashcards import anki_package, importing
from tests.anki_samples import BASIC_MODELS, NOTES_COLUMNS, collection, package, zstd_bomb
from tests.support.memory import peak_rss_growth_mb


def finishes_within(seconds: float, work: Callable[[], object]) -> BaseException | object:
    """Run `work` in a thread; fail the test (instead of hanging it) if it runs on."""
    outcome: list[BaseException | object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as err:
            outcome.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"still running after {seconds} s"
    return outcome[0]


# Queries that would never end ------------------------------------------------------------


def test_a_notes_view_that_recurses_forever_is_refused_at_once() -> None:
    endless = (
        "CREATE VIEW notes AS WITH RECURSIVE r(id, mid, tags, flds) AS ("
        " SELECT 1, 1, '', 'a' || char(31) || 'b'"
        " UNION ALL SELECT id + 1, mid, tags, flds FROM r)"
        " SELECT * FROM r"
    )
    data = package(collection(endless))
    assert len(data) < 8192
    result = finishes_within(20, lambda: importing.parse_apkg(data))
    assert isinstance(result, BadInput), result
    assert "its “notes” is not a plain table" in result.message
    assert "Nothing was imported" in result.message


def test_a_computed_column_cannot_swell_a_value_in_memory() -> None:
    # 100 MB per row, computed on read from a few bytes of schema.
    swelling = (
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, guid TEXT, mid INTEGER, tags TEXT,"
        " seed TEXT, flds TEXT GENERATED ALWAYS AS (printf('%.*c', 100000000, 'x')) VIRTUAL)"
    )
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE col (models TEXT)")
    db.execute("INSERT INTO col VALUES (?)", (BASIC_MODELS,))
    db.execute(swelling)
    db.execute("INSERT INTO notes (id, mid, tags) VALUES (1, 1, '')")
    db.commit()
    data = package(db.serialize())
    growth, result = peak_rss_growth_mb(lambda: importing.parse_apkg(data))
    assert isinstance(result, BadInput), result
    assert "its “notes” table has computed columns" in result.message
    assert growth < 64, f"memory rose by {growth:.0f} MB"


# Bombs -------------------------------------------------------------------------------------


def test_a_zstd_bomb_is_stopped_without_the_memory_it_asks_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A lower cap keeps the test quick; before the fix memory rose by the whole cap.
    monkeypatch.setattr(anki_package, "MAX_COLLECTION_BYTES", 96 * 1024 * 1024)
    data = package(zstd_bomb(256), "collection.anki21b")
    assert len(data) < 16_000
    growth, result = peak_rss_growth_mb(lambda: importing.parse_apkg(data))
    assert isinstance(result, BadInput), result
    assert "unpacks to more than 96 MB" in result.message
    assert growth < 32, f"memory rose by {growth:.0f} MB"


def test_a_zstd_frame_asking_for_a_huge_window_is_refused() -> None:
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=30)
    compressor = zstandard.ZstdCompressor(compression_params=params).compressobj()
    frame = compressor.compress(collection(f"CREATE TABLE notes ({NOTES_COLUMNS})", rows=1))
    frame += compressor.flush()
    with pytest.raises(BadInput, match="damaged"):
        importing.parse_apkg(package(frame, "collection.anki21b"))


# Tables that are not what they claim -------------------------------------------------------


def test_only_plain_tables_are_read() -> None:
    as_view = "CREATE VIEW col AS SELECT '{}' AS models"
    data = package(collection(f"CREATE TABLE notes ({NOTES_COLUMNS})", 1, col_sql=as_view))
    with pytest.raises(BadInput, match="its “col” is not a plain table"):
        importing.parse_apkg(data)
    missing = sqlite3.connect(":memory:")
    missing.execute("CREATE TABLE col (models TEXT)")
    with pytest.raises(BadInput, match="it has no “notes” table"):
        importing.parse_apkg(package(missing.serialize()))


def test_a_stored_value_longer_than_the_cap_is_refused_clearly() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE col (models TEXT)")
    db.execute("INSERT INTO col VALUES (?)", (BASIC_MODELS,))
    db.execute(f"CREATE TABLE notes ({NOTES_COLUMNS})")
    huge = "x" * (anki_package.MAX_VALUE_BYTES + 1) + "\x1fback"
    db.execute("INSERT INTO notes (id, mid, tags, flds) VALUES (1, 1, '', ?)", (huge,))
    db.commit()
    with pytest.raises(BadInput, match=r"readable Anki collection.*too big"):
        importing.parse_apkg(package(db.serialize()))


# Budgets, each on its own ------------------------------------------------------------------


def plain_package(rows: int) -> bytes:
    return package(collection(f"CREATE TABLE notes ({NOTES_COLUMNS})", rows))


def test_a_plain_collection_reads_within_its_budgets() -> None:
    parsed = importing.parse_apkg(plain_package(3))
    assert [(n.front, n.back) for n in parsed.notes] == [
        ("front 1", "back 1"),
        ("front 2", "back 2"),
        ("front 3", "back 3"),
    ]


def test_reading_stops_when_the_time_budget_is_spent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(anki_package, "MAX_SECONDS", 0.0)
    with pytest.raises(BadInput, match=r"took too long, so I stopped.*Nothing was imported"):
        importing.parse_apkg(plain_package(2000))


def test_reading_stops_when_the_step_budget_is_spent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(anki_package, "MAX_STEPS", 0)
    with pytest.raises(BadInput, match="took too long, so I stopped"):
        importing.parse_apkg(plain_package(2000))


def test_a_deck_over_the_note_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(anki_package, "MAX_NOTES", 3)
    assert len(importing.parse_apkg(plain_package(3)).notes) == 3
    with pytest.raises(BadInput, match="more than 3 notes"):
        importing.parse_apkg(plain_package(4))


def test_a_package_over_the_size_limit_is_refused_before_unzipping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(importing, "MAX_APKG_BYTES", 1024)
    with pytest.raises(BadInput, match="I import files up to 0 MB"):
        importing.check_size("deck.apkg", 2048)
    with pytest.raises(BadInput, match=r"deck\.colpkg"):
        importing.parse_file("deck.colpkg", plain_package(200) + b"\0" * 2048)


def test_a_collection_in_wal_mode_is_read(tmp_path: object) -> None:
    db = sqlite3.connect(":memory:")
    db.executescript(f"CREATE TABLE col (models TEXT); CREATE TABLE notes ({NOTES_COLUMNS});")
    db.execute("INSERT INTO col VALUES (?)", (BASIC_MODELS,))
    db.execute("INSERT INTO notes (id, mid, tags, flds) VALUES (1, 1, 'x', 'a\x1fb')")
    db.commit()
    raw = bytearray(db.serialize())
    raw[18:20] = b"\x02\x02"  # the header's read/write versions: WAL
    parsed = importing.parse_apkg(package(bytes(raw), "collection.anki21"))
    assert [(n.front, n.back, n.tags) for n in parsed.notes] == [("a", "b", "x")]
