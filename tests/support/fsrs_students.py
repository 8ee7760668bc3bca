"""Simulated students whose memory follows FSRS with their own parameters.

The app schedules with its current parameters (the defaults); whether a card is recalled is
drawn from the retrievability of the student's *true* parameters. Learning steps are left
out (every review is a day or more apart) so the history is dense in scorable reviews.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from fsrs import Card, Rating, ReviewLog, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

START = datetime(2026, 1, 5, 18, tzinfo=UTC)


def individual_parameters(rng: random.Random, spread: float = 0.5) -> list[float]:
    """Defaults scaled by a log-normal factor each (initial stabilities vary most between
    people), clamped to FSRS's bounds."""
    out = []
    for index, (value, low, high) in enumerate(
        zip(DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True)
    ):
        sigma = spread * (2 if index < 4 else 1)
        out.append(min(max(value * rng.lognormvariate(0, sigma), low), high))
    return out


def _grade(rng: random.Random, recalled: bool) -> Rating:
    if not recalled:
        return Rating.Again
    roll = rng.random()
    return Rating.Hard if roll < 0.15 else Rating.Easy if roll > 0.9 else Rating.Good


def simulate(
    true_parameters: Sequence[float],
    *,
    days: int,
    new_per_day: int,
    seed: int,
    scheduling: Sequence[float] = DEFAULT_PARAMETERS,
    first_card_id: int = 1,
    changes: Mapping[int, Sequence[float]] | None = None,
) -> list[ReviewLog]:
    """Reviews (time-ordered) of a student who adds `new_per_day` cards and studies every
    card the app says is due, once a day, for `days` days. `changes` maps a day to the true
    parameters from then on (a student whose memory changed)."""
    rng = random.Random(seed)
    memory = _scheduler(true_parameters)
    app = _scheduler(scheduling)
    truth: dict[int, Card] = {}
    shown: dict[int, Card] = {}
    logs: list[ReviewLog] = []
    next_id = first_card_id
    for day in range(days):
        if changes and day in changes:
            memory = _scheduler(changes[day])
        now = START + timedelta(days=day, minutes=rng.randrange(120))
        for _ in range(new_per_day):
            truth[next_id] = Card(card_id=next_id, due=now)
            shown[next_id] = Card(card_id=next_id, due=now)
            next_id += 1
        due = [card_id for card_id, card in shown.items() if card.due <= now]
        for offset, card_id in enumerate(due):
            when = now + timedelta(seconds=20 * offset)
            card = truth[card_id]
            recalled = card.last_review is None or (
                rng.random() < memory.get_card_retrievability(card, when)
            )
            rating = _grade(rng, recalled)
            truth[card_id], _ = memory.review_card(card, rating, when)
            shown[card_id], log = app.review_card(shown[card_id], rating, when)
            logs.append(log)
    return logs


def _scheduler(parameters: Sequence[float]) -> Scheduler:
    return Scheduler(parameters, learning_steps=(), relearning_steps=(), enable_fuzzing=False)
