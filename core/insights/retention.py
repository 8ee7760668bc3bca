"""Predicted retention from FSRS memory states: pure functions, no I/O.

The forgetting curve is fsrs's own: R = (1 + FACTOR * t / S) ** DECAY with DECAY the
negated last parameter and FACTOR = 0.9 ** (1 / DECAY) - 1, t the whole days since the
last review (as `fsrs.Scheduler.get_card_retrievability` counts them). Computing it here
instead of building an `fsrs.Card` per card and day keeps a 5,000-card forecast cheap;
a unit test holds the two equal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.insights.planner import ExamIn, deck_matches

FORECAST_DAYS = 30
MILESTONES = (0, 7, 30)


@dataclass(frozen=True)
class Curve:
    """fsrs's forgetting curve for one set of parameters."""

    decay: float
    factor: float

    @classmethod
    def from_parameters(cls, parameters: Sequence[float]) -> Curve:
        decay = -parameters[20]
        return cls(decay, 0.9 ** (1 / decay) - 1)

    def retrievability(self, stability: float, last_review: datetime, at: datetime) -> float:
        elapsed = max(0, (at - last_review).days)
        return float((1 + self.factor * elapsed / stability) ** self.decay)


@dataclass(frozen=True)
class CardMemory:
    deck: str
    stability: float | None
    last_review: datetime | None  # None: never studied

    @property
    def studied(self) -> bool:
        return self.stability is not None and self.last_review is not None


@dataclass(frozen=True)
class DeckRetention:
    deck: str
    studied: int
    unstudied: int
    # Mean predicted recall of the studied cards at now + i days, i = 0..FORECAST_DAYS.
    curve: tuple[float, ...]
    exam: ExamIn | None = None
    # Studied cards whose recall at the exam is below the desired retention.
    at_risk: int = 0

    def at_day(self, day: int) -> float | None:
        return self.curve[day] if self.studied else None


def deck_retention(
    cards: Sequence[CardMemory],
    now: datetime,
    curve: Curve,
    desired: float,
    exams: Sequence[ExamIn] = (),
) -> list[DeckRetention]:
    """Per deck (by name), the mean predicted recall over the next 30 days and the cards
    at risk by the nearest upcoming exam whose subject the deck matches."""
    by_deck: dict[str, list[CardMemory]] = {}
    for card in cards:
        by_deck.setdefault(card.deck, []).append(card)
    upcoming = sorted((e for e in exams if e.starts_at >= now), key=lambda e: e.starts_at)
    moments = [now + timedelta(days=i) for i in range(FORECAST_DAYS + 1)]
    result = []
    for deck, members in sorted(by_deck.items(), key=lambda kv: kv[0].lower()):
        studied = [c for c in members if c.studied]
        totals = [0.0] * len(moments)
        for card in studied:
            assert card.stability is not None and card.last_review is not None
            for i, moment in enumerate(moments):
                totals[i] += curve.retrievability(card.stability, card.last_review, moment)
        mean = tuple(t / len(studied) for t in totals) if studied else (0.0,) * len(moments)
        exam = next((e for e in upcoming if deck_matches(e, deck)), None)
        at_risk = 0
        if exam is not None:
            at_risk = sum(
                1
                for c in studied
                if c.stability is not None
                and c.last_review is not None
                and curve.retrievability(c.stability, c.last_review, exam.starts_at) < desired
            )
        result.append(
            DeckRetention(deck, len(studied), len(members) - len(studied), mean, exam, at_risk)
        )
    return result
