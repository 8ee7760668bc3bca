"""Note parsing (basic, reverse, cloze), card sides, interval labels, CSV parsing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import BadInput
from core.flashcards import importing
from core.flashcards.exporting import deck_csv, markup_to_html
from core.flashcards.notes import card_sides, make_note
from core.flashcards.scheduling import format_interval
from core.flashcards.service import DeckNote


def test_cloze_makes_one_card_per_number() -> None:
    note = make_note("{{c1::Paris}} is in {{c2::France}}, near {{c1::the Seine}}", "")
    assert note.kind == "cloze"
    assert note.ordinals() == [1, 2]
    question, answer = card_sides(note.kind, note.front, note.back, 1)
    assert question == "[...] is in France, near [...]"
    assert answer == "**Paris** is in France, near **the Seine**"


def test_cloze_hint_is_shown_in_the_question() -> None:
    question, _ = card_sides("cloze", "H2O is {{c1::water::liquid}}", "extra", 1)
    assert question == "H2O is [liquid]"


@pytest.mark.parametrize(
    "text",
    ["The {{c1::cell", "{{c1::a}} and {{c2::b", "{{c1::}} empty", "{{c1::a {{c2::b}}"],
)
def test_broken_cloze_is_a_clear_error(text: str) -> None:
    with pytest.raises(BadInput):
        make_note(text, "")


@pytest.mark.parametrize(("front", "back"), [("", "b"), ("f", ""), ("  ", " ")])
def test_a_card_needs_both_sides(front: str, back: str) -> None:
    with pytest.raises(BadInput, match="both sides"):
        make_note(front, back)


def test_reverse_note_makes_two_cards_that_swap_sides() -> None:
    note = make_note("Hund", "dog", reverse=True)
    assert note.ordinals() == [0, 1]
    assert card_sides(note.kind, note.front, note.back, 1) == ("dog", "Hund")


def test_the_same_text_has_the_same_hash_and_kind_matters() -> None:
    assert make_note("a", "b").content_hash == make_note(" a ", "b").content_hash
    assert make_note("a", "b").content_hash != make_note("a", "b", reverse=True).content_hash


@pytest.mark.parametrize(
    ("delta", "label"),
    [
        (timedelta(seconds=20), "1m"),
        (timedelta(minutes=10), "10m"),
        (timedelta(hours=5), "5h"),
        (timedelta(days=4), "4d"),
        (timedelta(days=95), "3mo"),
        (timedelta(days=500), "1.4y"),
    ],
)
def test_interval_labels_are_short(delta: timedelta, label: str) -> None:
    assert format_interval(delta) == label


def test_csv_header_row_is_skipped_and_semicolons_are_detected() -> None:
    parsed = importing.parse_text(b"Front;Back\nsi;yes\n")
    assert [(n.front, n.back) for n in parsed.notes] == [("si", "yes")]


def test_our_csv_export_reads_back_identically() -> None:
    notes = [
        DeckNote("basic", 'a, "quoted"', "line\nbreak", "t1 t2"),
        DeckNote("reverse", "Hund", "dog", ""),
        DeckNote("cloze", "{{c1::x}} &amp;", "", ""),
    ]
    parsed = importing.parse_text(deck_csv(notes))
    assert [DeckNote(n.kind, n.front, n.back, n.tags) for n in parsed.notes] == notes


def test_html_fields_become_chat_markup_and_back() -> None:
    text = importing.html_to_text("<div>R&amp;D <b>bold</b><br>x_y [sound:a.mp3]</div>")
    assert text == "R&D **bold**\nx\\_y"
    assert markup_to_html(text) == "R&amp;D <b>bold</b><br>x_y"


@pytest.mark.parametrize("length", [importing.MAX_FIELD_CHARS + 1, 200_000, 2_000_000])
def test_a_field_longer_than_the_limit_is_refused_with_its_row(length: int) -> None:
    # Past 131,072 characters the csv module's own limit trips first; the student still
    # gets our message, with the row, not "malformed".
    data = ("front,back\nq,a\n" + "a," + "b" * length + "\n").encode()
    with pytest.raises(BadInput, match="Row 3 has a field over 100,000 characters"):
        importing.parse_text(data)


def test_utf16_text_with_a_byte_order_mark_imports_and_latin_1_is_refused() -> None:
    # Excel's "Unicode Text" export: UTF-16 with a BOM, tab-separated.
    parsed = importing.parse_text("Straße\tstreet\ncafé\tcoffee\n".encode("utf-16"), tab=True)
    assert [(n.front, n.back) for n in parsed.notes] == [("Straße", "street"), ("café", "coffee")]
    with pytest.raises(BadInput, match="not UTF-8 or UTF-16 text"):
        importing.parse_text("café,coffee\n".encode("latin-1"))
    with pytest.raises(BadInput, match="not UTF-8 or UTF-16 text"):
        importing.parse_text(b"\xff\xfea\x00b")  # a BOM, then half a code unit
