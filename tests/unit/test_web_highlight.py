"""Search results on the web show the passage around the match, with the words marked."""

from __future__ import annotations

from api.highlight import excerpt


def joined(pieces: list[tuple[str, bool]]) -> str:
    return "".join(f"[{text}]" if hit else text for text, hit in pieces)


def test_the_excerpt_is_centred_on_a_match_far_into_the_passage() -> None:
    text = (
        "Plants need water and light. " * 30
        + "Mitochondria make ATP for the cell. "
        + ("Cells divide by mitosis. " * 30)
    )
    shown = joined(excerpt(text, "mitochondria ATP"))
    assert "[Mitochondria] make [ATP] for the cell." in shown
    assert shown.startswith("…") and shown.endswith("…")
    assert len(shown) < 320
    assert not shown.startswith("Plants")


def test_words_that_start_like_the_query_are_marked_case_insensitively() -> None:
    shown = joined(excerpt("Mitochondrial DNA differs from nuclear DNA.", "mitochondria dna"))
    assert shown == "[Mitochondrial] [DNA] differs from nuclear [DNA]."


def test_a_passage_without_a_literal_match_shows_its_start_unmarked() -> None:
    text = "word " * 200
    pieces = excerpt(text, "semantic neighbour")
    assert all(not hit for _, hit in pieces)
    assert joined(pieces).startswith("word word") and joined(pieces).endswith("…")


def test_markup_in_the_query_is_matched_as_plain_text() -> None:
    assert excerpt("a+b (cell)", "(cell) .*") == [("a+b (", False), ("cell", True), (")", False)]
