"""Flashcard notes and imports: cards or a clear BadInput, whatever the file holds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import BadInput
from core.flashcards.exporting import deck_apkg
from core.flashcards.importing import Parsed, parse_apkg, parse_file, parse_text
from core.flashcards.notes import NoteDraft, cloze_numbers, make_note
from core.flashcards.service import DeckNote
from tests.fuzz._mutate import mutated

CLOZE_BITS = st.sampled_from(["{{c1::", "{{c2::", "{{c0::", "}}", "::", "{{", "c1", "hint", " "])
clozeish = st.lists(st.one_of(CLOZE_BITS, st.text(max_size=5)), max_size=12).map("".join)
CSV_BITS = st.sampled_from(
    [",", ";", "\t", '"', "\n", "\r\n", "{{c1::x}}", "a", "b"]
    + [f"#{h}\n" for h in ("separator:tab", "html:true", "tags column:3", "notetype column:1")]
)
csvish = st.lists(st.one_of(CSV_BITS, st.text(max_size=6)), max_size=30).map("".join)


@settings(max_examples=200, deadline=None)
@given(st.one_of(clozeish, st.text(max_size=40)), st.one_of(clozeish, st.text(max_size=20)))
def test_note_text_is_a_note_or_bad_input(front: str, back: str) -> None:
    try:
        note = make_note(front, back)
    except BadInput as err:
        assert err.message
        return
    assert isinstance(note, NoteDraft)
    assert note.ordinals()
    if note.kind == "cloze":
        assert all(n >= 1 for n in cloze_numbers(note.front))


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(csvish.map(lambda t: t.encode()), st.binary(max_size=200)),
    st.sampled_from(["cards.csv", "cards.tsv", "cards.txt", "cards.pdf", "CARDS.CSV"]),
)
def test_text_imports_give_cards_or_bad_input(data: bytes, name: str) -> None:
    try:
        parsed = parse_file(name, data)
    except BadInput as err:
        assert err.message
        return
    assert isinstance(parsed, Parsed) and parsed.notes


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_as_csv_give_bad_input_or_cards(data: bytes) -> None:
    try:
        parse_text(data)
    except BadInput as err:
        assert err.message


APKG = deck_apkg(
    "Fuzz",
    1,
    [
        DeckNote("basic", "front **one**", "back", "t1"),
        DeckNote("reverse", "capital of France", "Paris", ""),
        DeckNote("cloze", "{{c1::Paris}} is in {{c2::France}}", "", "geo"),
    ],
)


def test_the_unmutated_package_imports() -> None:
    assert len(parse_apkg(APKG).notes) == 3


@settings(max_examples=80, deadline=None)
@given(st.one_of(mutated(APKG), st.binary(max_size=300)))
def test_damaged_anki_packages_give_bad_input(data: bytes) -> None:
    try:
        parsed = parse_file("deck.apkg", data)
    except BadInput as err:
        assert err.message
        return
    assert isinstance(parsed, Parsed)
