"""How well FSRS predicts this student: replay each card's reviews through the `fsrs`
scheduler, and before each review a day or more after the previous one take the
predicted recall (`Scheduler.get_card_retrievability`) next to what happened (any rating
but Again is a recall). Binned by prediction, the pairs are the calibration curve.
Pure: the caller reads the review logs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from fsrs import Card, Rating, Scheduler

BINS = 10
# Below this many predictions a curve says more about chance than about the model.
MIN_PREDICTIONS = 20


@dataclass(frozen=True)
class ReviewEvent:
    card_id: int
    rating: int  # fsrs.Rating: 1 Again .. 4 Easy
    at: datetime


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    count: int
    predicted: float  # mean predicted recall in the bin
    actual: float  # share recalled


@dataclass(frozen=True)
class Calibration:
    bins: tuple[CalibrationBin, ...]
    predictions: int
    predicted: float  # mean over all predictions
    actual: float

    @property
    def enough(self) -> bool:
        return self.predictions >= MIN_PREDICTIONS


def predictions(events: Sequence[ReviewEvent], scheduler: Scheduler) -> list[tuple[float, bool]]:
    """(predicted recall, recalled) for every review at least a day after the card's
    previous one, each card replayed from new in time order."""
    pairs: list[tuple[float, bool]] = []
    ordered = sorted(events, key=lambda e: (e.card_id, e.at))
    for card_id, history in groupby(ordered, key=lambda e: e.card_id):
        card = Card(card_id=card_id)
        for event in history:
            last = card.last_review
            if last is not None and event.at - last >= timedelta(days=1):
                predicted = scheduler.get_card_retrievability(card, event.at)
                pairs.append((predicted, event.rating > int(Rating.Again)))
            card, _ = scheduler.review_card(card, Rating(event.rating), event.at)
    return pairs


def calibrate(pairs: Sequence[tuple[float, bool]], bins: int = BINS) -> Calibration:
    """Equal-width bins of predicted recall; only bins with predictions are kept."""
    grouped: list[list[tuple[float, bool]]] = [[] for _ in range(bins)]
    for predicted, recalled in pairs:
        grouped[min(bins - 1, int(predicted * bins))].append((predicted, recalled))
    found = tuple(
        CalibrationBin(
            i / bins,
            (i + 1) / bins,
            len(members),
            sum(p for p, _ in members) / len(members),
            sum(1 for _, r in members if r) / len(members),
        )
        for i, members in enumerate(grouped)
        if members
    )
    count = len(pairs)
    return Calibration(
        found,
        count,
        sum(p for p, _ in pairs) / count if count else 0.0,
        sum(1 for _, r in pairs if r) / count if count else 0.0,
    )
