"""The bridge to the `fsrs` package: our stored state to `fsrs.Card` and back, the user's
scheduler, and the interval labels on the rating buttons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from fsrs import Card, Rating, Scheduler, State

from core.flashcards.models import CardState, StudyPrefs

DEFAULT_RETENTION = 0.9
RATINGS: tuple[Rating, ...] = (Rating.Again, Rating.Hard, Rating.Good, Rating.Easy)
RATING_LABELS = {
    Rating.Again: "Again",
    Rating.Hard: "Hard",
    Rating.Good: "Good",
    Rating.Easy: "Easy",
}


def scheduler_for(prefs: StudyPrefs | None) -> Scheduler:
    """The user's scheduler. Fuzzing is off so the interval shown on a button is exactly
    the one the card gets."""
    retention = prefs.desired_retention if prefs is not None else DEFAULT_RETENTION
    parameters: Sequence[float] | None = prefs.parameters if prefs is not None else None
    if parameters:
        return Scheduler(parameters=parameters, desired_retention=retention, enable_fuzzing=False)
    return Scheduler(desired_retention=retention, enable_fuzzing=False)


def to_fsrs(row: CardState) -> Card:
    return Card(
        card_id=row.card_id,
        state=State(row.state),
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        due=_utc(row.due),
        last_review=_utc(row.last_review) if row.last_review is not None else None,
    )


def apply(row: CardState, card: Card) -> None:
    row.state = int(card.state)
    row.step = card.step
    row.stability = card.stability
    row.difficulty = card.difficulty
    row.due = card.due
    row.last_review = card.last_review


def preview(scheduler: Scheduler, row: CardState, now: datetime) -> dict[Rating, timedelta]:
    """The interval each rating would give, computed by fsrs itself."""
    card = to_fsrs(row)
    at = _utc(now)
    return {r: scheduler.review_card(card, r, at)[0].due - at for r in RATINGS}


def review(
    scheduler: Scheduler, row: CardState, rating: Rating, now: datetime, duration_ms: int | None
) -> Card:
    card, _ = scheduler.review_card(to_fsrs(row), rating, _utc(now), duration_ms)
    return card


def format_interval(delta: timedelta) -> str:
    """`10m`, `5h`, `4d`, `3mo`, `1.2y`: short enough for a button."""
    seconds = max(delta.total_seconds(), 0)
    minutes = seconds / 60
    if minutes < 60:
        return f"{max(round(minutes), 1)}m"
    hours = minutes / 60
    if hours < 24:
        return f"{round(hours)}h"
    days = hours / 24
    if days < 30:
        return f"{round(days)}d"
    if days < 365:
        return f"{round(days / 30.4)}mo"
    return f"{days / 365:.1f}y"


def _utc(at: datetime) -> datetime:
    # fsrs insists on tzinfo being exactly datetime.timezone.utc.
    return at.astimezone(UTC)
