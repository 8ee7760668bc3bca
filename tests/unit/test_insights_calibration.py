"""The calibration curve: fsrs's prediction replayed from each card's reviews against what
the student answered, binned by prediction."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from fsrs import Card, Rating, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS, LOWER_BOUNDS_PARAMETERS

from core.insights.calibration import ReviewEvent, calibrate, predictions
from tests.support.fsrs_students import individual_parameters, simulate

T = datetime(2026, 11, 2, 9, tzinfo=UTC)


def events_of(logs: list) -> list[ReviewEvent]:  # type: ignore[type-arg]
    return [ReviewEvent(log.card_id, int(log.rating), log.review_datetime) for log in logs]


def test_each_prediction_is_fsrs_retrievability_just_before_the_review() -> None:
    scheduler = Scheduler(enable_fuzzing=False)
    events = [
        ReviewEvent(7, 3, T),
        ReviewEvent(7, 3, T + timedelta(hours=1)),  # the same day: not a prediction
        ReviewEvent(7, 1, T + timedelta(days=5)),
        ReviewEvent(8, 3, T + timedelta(days=1)),
    ]
    pairs = predictions(list(reversed(events)), scheduler)  # order of arrival does not matter
    card = Card(card_id=7)
    card, _ = scheduler.review_card(card, Rating.Good, T)
    card, _ = scheduler.review_card(card, Rating.Good, T + timedelta(hours=1))
    expected = scheduler.get_card_retrievability(card, T + timedelta(days=5))
    assert pairs == [(expected, False)]
    assert 0.5 < expected < 1


def test_bins_hold_the_mean_prediction_and_the_share_recalled() -> None:
    pairs = [(0.95, True), (0.91, True), (0.93, False), (0.42, False), (0.45, True)]
    result = calibrate(pairs)
    assert [(b.low, b.count) for b in result.bins] == [(0.4, 2), (0.9, 3)]
    assert abs(result.bins[1].predicted - 0.93) < 1e-9
    assert abs(result.bins[1].actual - 2 / 3) < 1e-9
    assert result.predictions == 5 and abs(result.actual - 0.6) < 1e-9
    assert not result.enough
    assert calibrate([]).predictions == 0


def test_a_student_replayed_with_their_own_memory_is_well_calibrated() -> None:
    """Recall is drawn from the student's true FSRS parameters: replayed with those, the
    predicted and actual recall agree; with a badly wrong model they do not."""
    truth = individual_parameters(random.Random(3), spread=0.6)
    events = events_of(simulate(truth, days=120, new_per_day=8, seed=11))
    own = calibrate(predictions(events, Scheduler(parameters=truth, enable_fuzzing=False)))
    assert own.enough and own.predictions > 2000
    assert abs(own.predicted - own.actual) < 0.03
    busy = [b for b in own.bins if b.count >= 200]
    assert busy and all(abs(b.predicted - b.actual) < 0.06 for b in busy)

    # Initial stabilities at FSRS's lowest: a model expecting far more forgetting.
    forgetful = list(LOWER_BOUNDS_PARAMETERS[:4]) + list(DEFAULT_PARAMETERS[4:])
    wrong = calibrate(predictions(events, Scheduler(parameters=forgetful, enable_fuzzing=False)))
    assert abs(wrong.predicted - wrong.actual) > abs(own.predicted - own.actual) + 0.02
