"""Query-term weighting and pruning: which terms of a question select candidate chunks."""

from __future__ import annotations

from core.documents.query_terms import Pruning, any_of, bm25_idf, candidate_terms, weigh


def test_terms_come_rarest_first_and_absent_terms_are_dropped() -> None:
    terms = weigh({"cell": 900, "axolotl": 2, "blastema": 1, "unicorn": 0}, chunks=1000)
    assert [t.lexeme for t in terms] == ["blastema", "axolotl", "cell"]
    assert terms[0].idf > terms[1].idf > terms[2].idf > 0


def test_a_term_in_every_chunk_still_weighs_something() -> None:
    assert bm25_idf(1000, 1000) > 0


def test_pruning_keeps_at_most_max_terms_of_the_rarest() -> None:
    terms = weigh({f"t{i:03}": i + 1 for i in range(200)}, chunks=100_000)
    kept = candidate_terms(terms, Pruning(max_terms=16, max_candidates=10**9))
    assert [t.lexeme for t in kept] == [f"t{i:03}" for i in range(16)]


def test_pruning_stops_before_the_candidate_budget_is_exceeded() -> None:
    terms = weigh({"rare": 10, "uncommon": 300, "common": 60_000}, chunks=100_000)
    kept = candidate_terms(terms, Pruning(max_terms=16, max_candidates=5_000))
    assert [t.lexeme for t in kept] == ["rare", "uncommon"]


def test_the_rarest_term_is_kept_even_past_the_budget() -> None:
    terms = weigh({"common": 60_000, "frequent": 80_000}, chunks=100_000)
    kept = candidate_terms(terms, Pruning(max_terms=16, max_candidates=5_000))
    assert [t.lexeme for t in kept] == ["common"]


def test_without_pruning_every_term_selects_candidates() -> None:
    terms = weigh({"rare": 10, "common": 60_000}, chunks=100_000)
    assert candidate_terms(terms, None) == terms


def test_lexemes_are_quoted_as_literals_in_the_tsquery() -> None:
    assert any_of(["o'neil", "a\\b", "cell"]) == "'o''neil' | 'a\\\\b' | 'cell'"
