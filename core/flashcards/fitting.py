"""Judging FSRS parameters against a student's own history, without torch.

The optimizer (the `optimizer` extra) proposes parameters fitted to the first 80% of a
user's reviews by time; they are kept only when they predict the last 20% better than the
current ones. Prediction quality is the log loss of FSRS's retrievability against whether
the card was recalled (any grade but Again), scored like srs-benchmark: one prediction per
review a day or more after the card's previous one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fsrs import Card, Rating, ReviewLog, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS

TRAIN_SHARE = 0.8
# Keeps log(0) out of the loss when FSRS is certain and wrong.
_EPSILON = 1e-6

Fitter = Callable[[Sequence[ReviewLog]], Sequence[float]]


@dataclass(frozen=True)
class Prediction:
    retrievability: float
    recalled: bool


@dataclass(frozen=True)
class FitOutcome:
    """What a fit proposed and whether it won on the held-out reviews."""

    parameters: list[float]
    kept_fitted: bool
    current_loss: float
    fitted_loss: float
    held_out: int


def by_time(logs: Sequence[ReviewLog]) -> list[ReviewLog]:
    return sorted(logs, key=lambda log: (log.review_datetime, log.card_id))


def split_index(count: int, train_share: float = TRAIN_SHARE) -> int:
    """Index of the first held-out review in a time-ordered log."""
    return int(count * train_share)


def predictions(
    parameters: Sequence[float], ordered: Sequence[ReviewLog], first_scored: int = 0
) -> list[Prediction]:
    """Replay every card's whole history with `parameters` (the held-out reviews need the
    state the earlier ones built) and predict the reviews at index `first_scored` or later."""
    scheduler = Scheduler(parameters=parameters, enable_fuzzing=False)
    cards: dict[int, Card] = {}
    out: list[Prediction] = []
    for index, log in enumerate(ordered):
        when = log.review_datetime
        card = cards.get(log.card_id) or Card(card_id=log.card_id, due=when)
        if index >= first_scored and card.last_review and (when - card.last_review).days > 0:
            probability = float(scheduler.get_card_retrievability(card, when))
            out.append(Prediction(probability, log.rating != Rating.Again))
        cards[log.card_id], _ = scheduler.review_card(card, log.rating, when)
    return out


def log_loss(scored: Sequence[Prediction]) -> float:
    if not scored:
        return math.nan
    total = 0.0
    for item in scored:
        p = min(max(item.retrievability, _EPSILON), 1 - _EPSILON)
        total -= math.log(p) if item.recalled else math.log(1 - p)
    return total / len(scored)


def rmse_bins(scored: Sequence[Prediction], bins: int = 20) -> float:
    """Calibration error: predictions grouped in equal-width bins of retrievability, the
    squared gap between mean prediction and recall rate weighted by the bin's size (a
    simplification of srs-benchmark's RMSE(bins), which bins by interval, count and lapses)."""
    if not scored:
        return math.nan
    groups: dict[int, list[Prediction]] = {}
    for item in scored:
        groups.setdefault(min(int(item.retrievability * bins), bins - 1), []).append(item)
    squared = 0.0
    for group in groups.values():
        predicted = sum(item.retrievability for item in group) / len(group)
        actual = sum(item.recalled for item in group) / len(group)
        squared += len(group) * (predicted - actual) ** 2
    return math.sqrt(squared / len(scored))


def fit_and_judge(
    logs: Sequence[ReviewLog], current: Sequence[float] | None, fit: Fitter
) -> FitOutcome:
    """Fit on the first 80% of `logs` by time, score current and fitted parameters on the
    rest, and keep the fitted ones only when their log loss is strictly lower."""
    ordered = by_time(logs)
    first_held_out = split_index(len(ordered))
    baseline = list(current) if current else list(DEFAULT_PARAMETERS)
    fitted = [float(p) for p in fit(ordered[:first_held_out])]
    current_scored = predictions(baseline, ordered, first_held_out)
    fitted_scored = predictions(fitted, ordered, first_held_out)
    current_loss, fitted_loss = log_loss(current_scored), log_loss(fitted_scored)
    better = bool(fitted_scored) and fitted_loss < current_loss
    return FitOutcome(
        fitted if better else baseline, better, current_loss, fitted_loss, len(fitted_scored)
    )
