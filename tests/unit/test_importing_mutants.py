"""The CSV/TSV reader's rules one at a time: sizes, file types, header lines, delimiters,
columns, row numbers. Written against the survivors of a mutation run of
core/flashcards/importing.py (docs/testing.md); each test states a rule a student meets."""

from __future__ import annotations

import pytest

from core.errors import BadInput
from core.flashcards import importing
from core.flashcards.importing import MAX_APKG_BYTES, MAX_NOTES, MAX_TEXT_BYTES
from tests.unit.test_anki_package import plain_package


def cards(data: bytes, *, tab: bool = False) -> list[tuple[str, str, str, str]]:
    return [(n.kind, n.front, n.back, n.tags) for n in importing.parse_text(data, tab=tab).notes]


def refusal(data: bytes, *, tab: bool = False) -> str:
    with pytest.raises(BadInput) as caught:
        importing.parse_text(data, tab=tab)
    return caught.value.message


# Sizes and file types ---------------------------------------------------------------------


def test_a_text_file_of_exactly_the_limit_is_fetched_and_one_byte_more_is_refused() -> None:
    importing.check_size("cards.csv", MAX_TEXT_BYTES)
    with pytest.raises(BadInput) as caught:
        importing.check_size("cards.csv", MAX_TEXT_BYTES + 1)
    assert caught.value.message == (
        "“cards.csv” is 10.5 MB; I import files up to 10 MB. Split it into smaller files."
    )


def test_an_anki_package_has_its_own_larger_limit_whatever_the_case_of_its_name() -> None:
    importing.check_size("Deck.APKG", MAX_APKG_BYTES)
    importing.check_size("all.colpkg", MAX_TEXT_BYTES + 1)
    with pytest.raises(BadInput, match=r"is 52\.4 MB; I import files up to 50 MB"):
        importing.check_size("Deck.APKG", MAX_APKG_BYTES + 1)


def test_the_name_in_a_size_refusal_is_escaped_for_the_chat() -> None:
    with pytest.raises(BadInput, match=r"^“my\\_deck\\\*.csv” is "):
        importing.check_size("my_deck*.csv", MAX_TEXT_BYTES + 1)


def test_is_apkg_knows_both_anki_package_kinds_and_nothing_else() -> None:
    assert importing.is_apkg("a.apkg") and importing.is_apkg("B.ColPkg")
    assert not importing.is_apkg("a.apkg.csv") and not importing.is_apkg("apkg")


def test_a_tsv_or_txt_is_split_on_tabs_even_when_its_first_line_has_only_commas() -> None:
    assert [(n.front, n.back) for n in importing.parse_file("Q.CSV", b"1,5\n").notes] == [
        ("1", "5")
    ]
    for name in ("A.TSV", "notes.TXT", "b.tsv"):
        with pytest.raises(BadInput, match=r"^Row 1: A card needs both sides"):
            importing.parse_file(name, b"1,5\n")  # one tab-separated field: no back
    assert [(n.front, n.back) for n in importing.parse_file("a.txt", b"x\ty\n").notes] == [
        ("x", "y")
    ]


def test_an_anki_package_is_read_as_one_whatever_the_case_of_its_name() -> None:
    parsed = importing.parse_file("Deck.APKG", plain_package(2))
    assert [(n.front, n.back) for n in parsed.notes] == [
        ("front 1", "back 1"),
        ("front 2", "back 2"),
    ]


def test_parse_file_refuses_an_oversized_file_before_reading_it() -> None:
    with pytest.raises(BadInput, match="I import files up to 10 MB"):
        importing.parse_file("big.csv", b"a,b\n" * (MAX_TEXT_BYTES // 4 + 1))


def test_an_unknown_file_type_is_refused_with_its_name_and_what_works() -> None:
    with pytest.raises(BadInput) as caught:
        importing.parse_file("notes.pdf", b"%PDF")
    assert caught.value.message == (
        "I can import .csv, .tsv/.txt (front, back, tags) and Anki .apkg files, not “notes.pdf”."
    )


# Rows -------------------------------------------------------------------------------------


def test_a_header_row_and_the_row_cap_of_notes_import_and_one_row_more_is_refused() -> None:
    header = b"front,back\n"
    body = b"".join(b"q%d,a%d\n" % (i, i) for i in range(MAX_NOTES))
    assert len(importing.parse_text(header + body).notes) == MAX_NOTES
    message = refusal(header + body + b"extra,row\n")
    assert message == (
        "That file has more than 20,000 rows; I import up to 20,000 cards at a time. "
        "Split it into smaller files."
    )


def test_only_the_first_row_can_be_a_header_and_any_of_the_usual_pairs_counts() -> None:
    assert cards(b" Term ; DEFINITION \nsi;yes\n") == [("basic", "si", "yes", "")]
    assert cards(b"Question,Answer\nq,a\n") == [("basic", "q", "a", "")]
    assert cards(b"q,a\nfront,back\n") == [("basic", "q", "a", ""), ("basic", "front", "back", "")]
    assert cards(b"Front,Back,Tags\nq,a,t\n") == [("basic", "q", "a", "t")]  # with a tags column
    # Two columns that are not a known header pair are a card.
    assert cards(b"front,answer\n") == [("basic", "front", "answer", "")]


def test_blank_rows_are_skipped_but_still_counted_for_row_numbers() -> None:
    assert cards(b"q,a\n\n , \nr,b\n") == [("basic", "q", "a", ""), ("basic", "r", "b", "")]
    assert refusal(b"q,a\n\n , \nr,\n").startswith("Row 4: A card needs both sides")


def test_row_numbers_in_refusals_count_the_header_lines_of_the_file() -> None:
    data = b"#separator:comma\n#html:false\nq,a\nonly a front\n"
    message = refusal(data)
    assert message.startswith("Row 4: ") and message.endswith(" Nothing was imported.")


def test_a_third_column_is_tags_with_their_spacing_tidied_and_a_fourth_can_reverse() -> None:
    assert cards(b"Hund,dog,  de   nouns ,reverse\n") == [("reverse", "Hund", "dog", "de nouns")]
    assert cards(b"Hund,dog,de, Reverse \n")[0][0] == "reverse"
    assert cards(b"Hund,dog,de,basic\n")[0][0] == "basic"


def test_a_file_with_no_cards_says_what_a_line_needs() -> None:
    expected = "I found no cards in that file. Each line needs: front, back[, tags]."
    assert refusal(b"front,back\n\n") == expected
    assert refusal(b"#separator:tab\n#html:true\n") == expected
    assert refusal(b"\n  \n\t\n") == expected  # only blank lines: nothing to guess from


def test_a_csv_the_csv_module_cannot_read_is_called_malformed() -> None:
    message = refusal(b"q,a\rb\n")  # a lone carriage return inside a field
    assert message.startswith("That CSV file is malformed (new-line character seen")  # csv's words
    assert message.endswith("). Nothing was imported.")


def test_a_field_of_exactly_the_limit_is_read_and_the_refusal_names_its_row() -> None:
    side = "b" * importing.MAX_FIELD_CHARS
    data = f"q,{side}\n".encode()
    # make_note has its own, smaller, limit for a card side: reached only after ours.
    assert "Row 1: A card side can be at most" in refusal(data)
    longer = f"q,a\nr,{side}b\n".encode()
    assert refusal(longer) == (
        "Row 2 has a field over 100,000 characters; a card side holds far less. "
        "Shorten it and send the file again. Nothing was imported."
    )


# Encodings --------------------------------------------------------------------------------


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_front() -> None:
    assert cards(b"\xef\xbb\xbfq,a\n") == [("basic", "q", "a", "")]


def test_text_in_another_encoding_is_refused_with_what_to_do() -> None:
    assert refusal("café;coffee\n".encode("cp1252")) == (
        "That file is not UTF-8 or UTF-16 text. Save it as UTF-8 CSV and try again."
    )


def test_big_endian_utf16_with_its_mark_is_read() -> None:
    data = b"\xfe\xff" + "Straße\tstreet\n".encode("utf-16-be")
    assert cards(data, tab=True) == [("basic", "Straße", "street", "")]


# Anki's header lines ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("tab", "x\ty"),
        ("comma", "x,y"),
        ("semicolon", "x;y"),
        ("pipe", "x|y"),
        ("space", "x y"),
        ("Pipe", "x|y"),
        ("|", "x|y"),
        ("/ and more", "x/y"),
    ],
)
def test_the_separator_line_names_the_delimiter(name: str, line: str) -> None:
    data = f"#separator:{name}\n{line}\n".encode()
    assert cards(data) == [("basic", "x", "y", "")]


def test_a_separator_value_may_itself_be_a_colon() -> None:
    assert cards(b"#separator::\nx:y\n") == [("basic", "x", "y", "")]


def test_header_keys_ignore_case_and_spacing_and_an_empty_separator_is_guessed() -> None:
    data = b"# Separator : \n#  HTML : TRUE\nx;<b>y</b>\n"
    assert cards(data) == [("basic", "x", "**y**", "")]


def test_html_is_converted_only_when_the_header_says_true() -> None:
    assert cards(b"#html:false\nx,<b>y</b>\n") == [("basic", "x", "<b>y</b>", "")]
    assert cards(b"#html:yes\nx,<b>y</b>\n") == [("basic", "x", "<b>y</b>", "")]


def test_the_header_ends_at_the_first_line_that_is_not_a_key_and_value() -> None:
    # "#no colon" is a row (a front starting with #), and the line after it is not a header.
    data = b"#separator:;\n#no colon;back\n#html:true;b\n"
    assert cards(data) == [
        ("basic", "#no colon", "back", ""),
        ("basic", "#html:true", "b", ""),
    ]


def test_the_tags_column_is_one_based_and_a_short_row_has_no_tags() -> None:
    data = b"#separator:tab\n#tags column:1\nt1  t2\tHund\tdog\n"
    assert cards(data) == [("basic", "Hund", "dog", "t1 t2")]
    short = b"#separator:tab\n#tags column:3\nHund\tdog\n"  # the column just past the row
    assert cards(short) == [("basic", "Hund", "dog", "")]


def test_a_tags_column_that_is_not_a_number_is_ignored() -> None:
    data = b"#separator:tab\n#tags column:last\nHund\tdog\tt\n"
    assert cards(data) == [("basic", "Hund", "dog", "t")]


def test_with_a_tags_column_the_third_remaining_column_is_the_kind() -> None:
    data = b"#separator:tab\n#tags column:3\nHund\tdog\tde\treverse\n"
    assert cards(data) == [("reverse", "Hund", "dog", "de")]


@pytest.mark.parametrize("key", ["guid column", "notetype column", "deck column"])
def test_ankis_bookkeeping_columns_are_dropped(key: str) -> None:
    data = f"#separator:tab\n#{key}:1\nxyz\tHund\tdog\n".encode()
    assert cards(data) == [("basic", "Hund", "dog", "")]


def test_a_bookkeeping_column_that_is_not_a_number_drops_nothing() -> None:
    data = b"#separator:tab\n#guid column:first\nxyz\tHund\tdog\n"
    assert cards(data) == [("basic", "xyz", "Hund", "dog")]


# Guessing the delimiter -------------------------------------------------------------------


def test_the_delimiter_is_guessed_from_the_first_line_that_is_not_blank() -> None:
    assert cards(b"\n  \nq;a\nr;b\n") == [("basic", "q", "a", ""), ("basic", "r", "b", "")]
    assert cards(b"q\ta,b\n") == [("basic", "q", "a,b", "")]
    # Both a semicolon and a comma: the comma wins.
    assert cards(b"q;x,a\n") == [("basic", "q;x", "a", "")]
