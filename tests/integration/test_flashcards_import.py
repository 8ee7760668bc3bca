"""/import and /export_deck: Anki packages made by genanki, CSV round trips, bad files."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from pathlib import Path

import genanki
import pytest
import zstandard
from sqlalchemy import func, select

from core.chat.messages import Attachment, Reply
from core.errors import BadInput
from core.flashcards import anki_package, importing
from core.flashcards.models import FlashCard, Note
from teddy.runtime import Runtime
from tests.support.chat_driver import ChatDriver


def attachment(name: str, data: bytes, size: int | None = None) -> Attachment:
    async def fetch() -> bytes:
        return data

    return Attachment(name, len(data) if size is None else size, "application/octet-stream", fetch)


async def send_file(chat: ChatDriver, name: str, data: bytes, text: str = "/import") -> str:
    replies = await chat.send(text, attachments=(attachment(name, data),))
    return "\n".join(r.plain_text() for r in replies)


async def counts(core: Runtime) -> tuple[int, int]:
    async with core.db.transaction() as session:
        notes = await session.scalar(select(func.count()).select_from(Note))
        cards = await session.scalar(select(func.count()).select_from(FlashCard))
    return int(notes or 0), int(cards or 0)


async def notes_text(core: Runtime) -> list[tuple[str, str, str, str]]:
    async with core.db.transaction() as session:
        rows = await session.execute(
            select(Note.kind, Note.front, Note.back, Note.tags).order_by(Note.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def genanki_package(tmp_path: Path) -> bytes:
    deck = genanki.Deck(2059400110, "Made by genanki")
    deck.add_note(
        genanki.Note(
            model=genanki.BASIC_MODEL,
            fields=["Fish &amp; chips — <b>Straße</b>", "日本語 &lt;tag&gt; café"],
            tags=["food", "uk"],
        )
    )
    deck.add_note(
        genanki.Note(
            model=genanki.BASIC_AND_REVERSED_CARD_MODEL,
            fields=["Hund", "dog<br>(animal)"],
        )
    )
    deck.add_note(
        genanki.Note(
            model=genanki.CLOZE_MODEL,
            fields=["{{c1::Paris}} is the capital of {{c2::France}}", "Europe"],
        )
    )
    path = tmp_path / "made.apkg"
    genanki.Package(deck).write_to_file(str(path))
    return path.read_bytes()


async def test_a_genanki_package_imports_every_card_once_with_text_intact(
    core: Runtime, chat: ChatDriver, tmp_path: Path
) -> None:
    data = genanki_package(tmp_path)
    text = await send_file(chat, "made.apkg", data)
    assert "Imported 5 cards (3 notes) into made" in text
    assert await notes_text(core) == [
        ("basic", "Fish & chips — **Straße**", "日本語 <tag> café", "food uk"),
        ("reverse", "Hund", "dog\n(animal)", ""),
        ("cloze", "{{c1::Paris}} is the capital of {{c2::France}}", "Europe", ""),
    ]
    again = await send_file(chat, "made.apkg", data)
    assert "Imported 0 cards" in again and "3 were already there" in again
    assert await counts(core) == (3, 5)


async def test_csv_round_trip_keeps_unicode_and_html_entities(
    core: Runtime, chat: ChatDriver
) -> None:
    source = (
        "front,back,tags\n"
        '"Tom &amp; Jerry","a ""cat"", a mouse",cartoons\n'
        "Ελληνικά,Greek 🇬🇷,lang\n"
        '"multi\nline",&lt;b&gt;,\n'
        "The {{c1::mitochondria}} is the powerhouse,,bio\n"
    ).encode()
    text = await send_file(chat, "cards.csv", source, "/import Round trip")
    assert "Imported 4 cards (4 notes) into Round trip" in text
    before = await notes_text(core)
    assert before[0][1:3] == ("Tom &amp; Jerry", 'a "cat", a mouse')
    assert before[2][1] == "multi\nline"

    replies = await chat.send("/export_deck round trip")
    files = {f.name: f.data for f in replies[0].files}
    assert set(files) == {"Round_trip.csv", "Round_trip.apkg"}
    exported = files["Round_trip.csv"]

    # Into a new deck: identical notes; into the same deck again: nothing added.
    assert "Imported 4 cards" in await send_file(chat, "x.csv", exported, "/import Copy")
    async with core.db.transaction() as session:
        rows = await session.execute(select(Note.deck_id, Note.kind, Note.front, Note.back))
        by_deck: dict[int, list[tuple[str, str, str]]] = {}
        for deck_id, kind, front, back in rows:
            by_deck.setdefault(deck_id, []).append((kind, front, back))
    original, copy = sorted(by_deck.values(), key=len)
    assert sorted(original) == sorted(copy)
    assert "0 cards" in await send_file(chat, "x.csv", exported, "/import Round trip")

    # The exported .apkg is a real Anki package our importer (and Anki) reads.
    parsed = importing.parse_apkg(files["Round_trip.apkg"])
    assert len(parsed.notes) == 4
    assert {n.front for n in parsed.notes} >= {"Ελληνικά", "multi\nline"}


async def test_anki_text_export_with_header_lines_is_read(core: Runtime, chat: ChatDriver) -> None:
    data = (
        b"#separator:tab\n#html:true\n#notetype column:1\n#deck column:2\n#tags column:5\n"
        b"Basic\tDefault\t<i>eins</i>\tone&nbsp;\tnumbers\n"
        b"Basic\tDefault\tzwei\ttwo\tnumbers\n"
    )
    assert "Imported 2 cards" in await send_file(chat, "Default.txt", data)
    assert await notes_text(core) == [
        ("basic", "_eins_", "one", "numbers"),
        ("basic", "zwei", "two", "numbers"),
    ]


async def test_tsv_from_quizlet_imports(core: Runtime, chat: ChatDriver) -> None:
    data = b"perro\tdog\ngato\tcat\n"
    assert "Imported 2 cards" in await send_file(chat, "quizlet.tsv", data)


async def test_bad_files_get_clear_replies_and_import_nothing(
    core: Runtime, chat: ChatDriver
) -> None:
    cases: list[tuple[str, bytes, str]] = [
        ("corrupt.apkg", b"PK\x03\x04 this is not really a zip", "not a zip archive"),
        ("notanki.apkg", _zip({"hello.txt": b"hi"}), "not an Anki package"),
        ("fake.apkg", _zip({"collection.anki2": b"not sqlite at all" * 100}), "readable Anki"),
        ("bad.csv", b"ok,fine\nempty,\n", "Row 2: A card needs both sides"),
        ("cloze.csv", b"The {{c1::cell,x\n", "not closed"),
        ("latin1.csv", "caf\xe9,coffee\n".encode("latin-1"), "not UTF-8"),
        ("notes.pdf", b"%PDF-1.4", "I can import .csv"),
    ]
    for name, data, expected in cases:
        assert expected in await send_file(chat, name, data), name
    assert await counts(core) == (0, 0)


async def test_too_many_rows_or_too_large_a_file_is_refused(
    core: Runtime, chat: ChatDriver
) -> None:
    rows = "".join(f"q{i},a{i}\n" for i in range(importing.MAX_NOTES + 5)).encode()
    assert "more than 20,000 rows" in await send_file(chat, "big.csv", rows)
    replies = await chat.send(
        "/import", attachments=(attachment("huge.csv", b"", size=50 * 1024 * 1024),)
    )
    assert "I import files up to 10 MB" in replies[0].plain_text()
    assert await counts(core) == (0, 0)


async def test_a_zip_bomb_is_refused_before_it_is_unpacked(
    core: Runtime, chat: ChatDriver, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # A small limit keeps the test fast; the check is the same at the real 200 MB.
    monkeypatch.setattr(anki_package, "MAX_COLLECTION_BYTES", 1024 * 1024)
    bomb = _zip({"collection.anki2": b"\0" * (8 * 1024 * 1024)})
    assert len(bomb) < 20_000
    assert "unpacks to more than 1 MB" in await send_file(chat, "bomb.apkg", bomb)
    assert await counts(core) == (0, 0)


def test_a_zip_that_understates_its_size_is_still_stopped(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(anki_package, "MAX_COLLECTION_BYTES", 1024 * 1024)
    data = bytearray(_zip({"collection.anki2": b"\0" * (4 * 1024 * 1024)}))
    # Rewrite the uncompressed size in both headers to claim 100 bytes.
    true_size = (4 * 1024 * 1024).to_bytes(4, "little")
    data = bytearray(bytes(data).replace(true_size, (100).to_bytes(4, "little")))
    try:
        importing.parse_apkg(bytes(data))
    except BadInput as err:
        assert "damaged" in err.message or "unpacks to more" in err.message
    else:
        raise AssertionError("the lying zip was read")


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            z.writestr(name, body)
    return buf.getvalue()


async def test_import_without_a_file_explains_what_to_attach(chat: ChatDriver) -> None:
    replies: list[Reply] = await chat.send("/import")
    assert "Attach a file" in replies[0].plain_text()


def anki21b_package() -> bytes:
    """A package in Anki's current format: a zstd-compressed schema-18 collection whose
    note types are protobuf rows, beside the "please update" stub older Ankis read."""
    db = sqlite3.connect(":memory:")
    db.executescript(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, guid TEXT, mid INTEGER, mod INTEGER,"
        " usn INTEGER, tags TEXT, flds TEXT, sfld TEXT, csum INTEGER, flags INTEGER, data TEXT);"
        "CREATE TABLE notetypes (id INTEGER PRIMARY KEY, name TEXT, mtime_secs INTEGER,"
        " usn INTEGER, config BLOB);"
        "CREATE TABLE templates (ntid INTEGER, ord INTEGER, name TEXT, mtime_secs INTEGER,"
        " usn INTEGER, config BLOB, PRIMARY KEY (ntid, ord));"
    )
    db.executemany(
        "INSERT INTO notetypes VALUES (?, ?, 0, 0, ?)",
        [(1, "Basic (and reversed card)", b"\x10\x00\x1a\x03css"), (2, "Cloze", b"\x08\x01\x1a")],
    )
    db.executemany(
        "INSERT INTO templates VALUES (?, ?, ?, 0, 0, x'')",
        [(1, 0, "Card 1"), (1, 1, "Card 2"), (2, 0, "Cloze")],
    )
    db.executemany(
        "INSERT INTO notes VALUES (?, ?, ?, 0, 0, ?, ?, '', 0, 0, '')",
        [
            (10, "g1", 1, " verbs ", "ser\x1fto be &amp; exist"),
            (11, "g2", 2, "", "{{c1::Madrid}} es la capital\x1fEspaña"),
        ],
    )
    db.commit()
    collection = zstandard.ZstdCompressor().compress(db.serialize())
    return _zip(
        {
            "collection.anki2": b"stub: please update to the latest Anki version",
            "collection.anki21b": collection,
            "meta": b"\x08\x03",
        }
    )


async def test_a_package_in_ankis_current_format_imports(core: Runtime, chat: ChatDriver) -> None:
    text = await send_file(chat, "modern.apkg", anki21b_package())
    assert "Imported 3 cards (2 notes)" in text
    assert await notes_text(core) == [
        ("reverse", "ser", "to be & exist", "verbs"),
        ("cloze", "{{c1::Madrid}} es la capital", "España", ""),
    ]


def test_a_zstd_bomb_inside_a_current_format_package_is_stopped(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(anki_package, "MAX_COLLECTION_BYTES", 1024 * 1024)
    bomb = zstandard.ZstdCompressor().compress(b"\0" * (16 * 1024 * 1024))
    assert len(bomb) < 10_000
    with pytest.raises(BadInput, match="unpacks to more than 1 MB"):
        importing.parse_apkg(_zip({"collection.anki21b": bomb}))
    with pytest.raises(BadInput, match="damaged"):
        importing.parse_apkg(_zip({"collection.anki21b": b"not zstd"}))


async def test_a_whole_collection_exported_as_colpkg_imports(
    core: Runtime, chat: ChatDriver
) -> None:
    text = await send_file(chat, "collection.colpkg", anki21b_package())
    assert "Imported 3 cards (2 notes) into collection" in text
    assert [n[1] for n in await notes_text(core)] == ["ser", "{{c1::Madrid}} es la capital"]


def legacy_package(models: dict[str, object], notes: list[tuple[int, str]]) -> bytes:
    """A schema-11 collection: note types as JSON in `col.models`."""
    db = sqlite3.connect(":memory:")
    db.executescript(
        "CREATE TABLE col (id INTEGER PRIMARY KEY, models TEXT);"
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, guid TEXT, mid INTEGER, mod INTEGER,"
        " usn INTEGER, tags TEXT, flds TEXT, sfld TEXT, csum INTEGER, flags INTEGER, data TEXT);"
    )
    db.execute("INSERT INTO col VALUES (1, ?)", (json.dumps(models),))
    db.executemany(
        "INSERT INTO notes (id, mid, tags, flds) VALUES (?, ?, '', ?)",
        [(i, mid, flds) for i, (mid, flds) in enumerate(notes, start=1)],
    )
    db.commit()
    return _zip({"collection.anki2": db.serialize()})


async def test_notes_that_cannot_become_text_cards_are_counted_in_the_reply(
    core: Runtime, chat: ChatDriver
) -> None:
    models: dict[str, object] = {
        "1": {"type": 0, "tmpls": [{"name": "Card 1"}]},
        "2": {"type": 0, "tmpls": [{"name": "Card 1"}]},  # a one-field note type
    }
    data = legacy_package(
        models,
        [
            (1, "Hund\x1fdog"),
            (2, "only one field"),
            (1, '<img src="cat.jpg">\x1f[sound:cat.mp3]'),  # nothing left once media goes
            (7, "unknown\x1fnote type"),
        ],
    )
    text = await send_file(chat, "mixed.apkg", data)
    assert "Imported 1 card (1 note)" in text
    assert "3 notes of types I can't show as text were left out" in text
    assert await counts(core) == (1, 1)


async def test_a_hostile_package_is_refused_in_chat_and_imports_nothing(
    core: Runtime, chat: ChatDriver
) -> None:
    db = sqlite3.connect(":memory:")
    db.executescript(
        "CREATE TABLE col (models TEXT); INSERT INTO col VALUES ('{}');"
        "CREATE VIEW notes AS WITH RECURSIVE r(id, mid, tags, flds) AS"
        " (SELECT 1, 1, '', 'a' UNION ALL SELECT id + 1, 1, '', 'a' FROM r) SELECT * FROM r;"
    )
    text = await send_file(chat, "endless.apkg", _zip({"collection.anki2": db.serialize()}))
    assert "its “notes” is not a plain table" in text
    assert await counts(core) == (0, 0)
