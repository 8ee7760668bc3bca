"""Summaries and key concepts. Extractive by default; the tutor can install an LLM
summariser in `Services.summarizer` (anything with `digest`)."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from core.documents.chunking import sentences

if TYPE_CHECKING:
    from core.chat.context import Services

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "may",
        "might",
        "must",
        "shall",
        "one",
        "two",
        "three",
        "use",
        "used",
        "using",
        "however",
        "thus",
        "therefore",
        "within",
        "without",
        "also",
        "e.g",
        "i.e",
        "et",
        "al",
        "fig",
        "figure",
        "table",
        "page",
        "chapter",
        "section",
        "well",
        "many",
        "much",
        "often",
        "new",
        "first",
        "second",
    ]
)

_WORD = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ\-]{2,}")


@dataclass(frozen=True)
class Digest:
    summary: str
    key_concepts: list[str]


class Summarizer(Protocol):
    async def digest(self, title: str, text: str) -> Digest: ...


def summarizer_for(services: Services) -> Summarizer:
    found = services.summarizer
    return found if found is not None else ExtractiveSummarizer()


class ExtractiveSummarizer:
    """The most central sentences (by the frequency of their content words), in order."""

    def __init__(self, sentences_wanted: int = 3, concepts_wanted: int = 8) -> None:
        self.sentences_wanted = sentences_wanted
        self.concepts_wanted = concepts_wanted

    async def digest(self, title: str, text: str) -> Digest:
        return Digest(self.summary(text), key_concepts(text, self.concepts_wanted))

    def summary(self, text: str) -> str:
        candidates = [s.strip() for s in sentences(text) if 40 <= len(s.strip()) <= 400]
        if not candidates:
            return text[:300].strip()
        freq = Counter(_content_words(text))
        scored = []
        for index, sentence in enumerate(candidates[:2000]):
            words = _content_words(sentence)
            if words:
                scored.append((sum(freq[w] for w in words) / len(words) ** 0.7, index))
        best = sorted(sorted(scored, reverse=True)[: self.sentences_wanted], key=lambda p: p[1])
        return " ".join(candidates[i] for _, i in best)


def _content_words(text: str) -> list[str]:
    return [w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOPWORDS]


def key_concepts(text: str, wanted: int = 8) -> list[str]:
    """Frequent two-word phrases first (they name concepts best), then frequent words."""
    words = _content_words(text)
    tokens = [m.lower() for m in _WORD.findall(text)]
    bigrams = Counter(
        f"{a} {b}"
        for a, b in itertools.pairwise(tokens)
        if a not in STOPWORDS and b not in STOPWORDS
    )
    chosen: list[str] = [p for p, n in bigrams.most_common(wanted) if n >= 2][: wanted // 2]
    covered = {w for p in chosen for w in p.split()}
    for word, count in Counter(words).most_common(wanted * 3):
        if len(chosen) >= wanted or count < 2:
            break
        if word not in covered and len(word) > 3:
            chosen.append(word)
    return chosen


def joined_text(texts: Sequence[str], limit: int = 200_000) -> str:
    out = " ".join(texts)
    return out[:limit]
