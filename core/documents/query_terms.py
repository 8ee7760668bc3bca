"""The terms of a keyword question: their BM25 weights, and which of them select candidates.

A long question (a pasted paragraph, a 200-word prompt) matches nearly every chunk through
its common words. Like Lucene's MaxScore, only the most selective terms select candidate
chunks; the common ones still add to the score of every candidate, but a chunk that matches
nothing except common, low-IDF words cannot climb into the top results, so it is not read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class QueryTerm:
    """A lexeme of the question, with its document frequency and IDF in the searched scopes."""

    lexeme: str
    df: int
    idf: float


@dataclass(frozen=True)
class Pruning:
    """Which terms select candidates: the rarest first, at most `max_terms` of them, while
    their document frequencies add up to at most `max_candidates` (the rarest term is always
    kept, so a question never loses all its terms)."""

    max_terms: int = 32
    max_candidates: int = 1_000


PRUNED = Pruning()


def bm25_idf(df: int, chunks: int) -> float:
    """Okapi BM25's IDF, kept positive (as Lucene does) for terms in most chunks."""
    return math.log(1 + (chunks - df + 0.5) / (df + 0.5))


def weigh(dfs: Mapping[str, int], chunks: int) -> list[QueryTerm]:
    """The question's terms found in the scopes, rarest first (ties by lexeme)."""
    terms = [QueryTerm(lexeme, df, bm25_idf(df, chunks)) for lexeme, df in dfs.items() if df > 0]
    return sorted(terms, key=lambda term: (term.df, term.lexeme))


def candidate_terms(terms: Sequence[QueryTerm], pruning: Pruning | None) -> list[QueryTerm]:
    """The terms (given rarest first) whose postings are read; all of them without pruning."""
    if pruning is None:
        return list(terms)
    kept: list[QueryTerm] = []
    matches = 0
    for term in terms[: pruning.max_terms]:
        matches += term.df
        if kept and matches > pruning.max_candidates:
            break
        kept.append(term)
    return kept


def any_of(lexemes: Iterable[str]) -> str:
    """A tsquery text matching any of these lexemes, each quoted as a literal."""
    quoted = ("'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'" for lexeme in lexemes)
    return " | ".join(quoted)
