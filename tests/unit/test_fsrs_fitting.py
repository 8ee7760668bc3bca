"""Judging FSRS parameters on a student's held-out reviews (no torch needed)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from fsrs import ReviewLog
from fsrs.scheduler import DEFAULT_PARAMETERS

from core.flashcards import fitting
from tests.support.fsrs_students import simulate

STRONG = [w * 6 if i < 4 else w for i, w in enumerate(DEFAULT_PARAMETERS)]
# Forgets everything within minutes: clearly wrong for any student.
AMNESIAC = [0.001] * 4 + list(DEFAULT_PARAMETERS[4:])


def test_the_fitter_sees_only_the_first_80_percent_by_time_and_a_better_fit_is_kept() -> None:
    logs = simulate(STRONG, days=40, new_per_day=10, seed=1)
    seen: list[ReviewLog] = []

    def fit(train: Sequence[ReviewLog]) -> list[float]:
        seen.extend(train)
        return STRONG

    shuffled = list(reversed(logs))
    outcome = fitting.fit_and_judge(shuffled, None, fit)

    ordered = fitting.by_time(logs)
    cut = fitting.split_index(len(ordered))
    assert seen == ordered[:cut]
    assert max(log.review_datetime for log in seen) <= ordered[cut].review_datetime
    assert outcome.kept_fitted and outcome.parameters == STRONG
    assert outcome.fitted_loss < outcome.current_loss
    assert outcome.held_out > 0


def test_a_fit_that_predicts_worse_keeps_the_current_parameters() -> None:
    logs = simulate(STRONG, days=40, new_per_day=10, seed=2)
    outcome = fitting.fit_and_judge(logs, STRONG, lambda train: AMNESIAC)
    assert not outcome.kept_fitted
    assert outcome.parameters == STRONG
    assert outcome.fitted_loss > outcome.current_loss


def test_a_fit_no_better_than_the_defaults_leaves_a_user_without_parameters_on_defaults() -> None:
    logs = simulate(DEFAULT_PARAMETERS, days=30, new_per_day=5, seed=3)
    outcome = fitting.fit_and_judge(logs, None, lambda train: list(DEFAULT_PARAMETERS))
    assert not outcome.kept_fitted
    assert outcome.fitted_loss == outcome.current_loss


def test_only_reviews_a_day_or_more_after_the_last_are_scored() -> None:
    logs = simulate(DEFAULT_PARAMETERS, days=10, new_per_day=3, seed=4)
    scored = fitting.predictions(DEFAULT_PARAMETERS, fitting.by_time(logs))
    first_reviews = len({log.card_id for log in logs})
    assert len(scored) == len(logs) - first_reviews
    assert all(0 < p.retrievability <= 1 for p in scored)


def test_log_loss_and_calibration_of_known_predictions() -> None:
    sure = [fitting.Prediction(0.9, True)] * 9 + [fitting.Prediction(0.9, False)]
    assert math.isclose(fitting.log_loss(sure), -(0.9 * math.log(0.9) + 0.1 * math.log(0.1)))
    assert math.isclose(fitting.rmse_bins(sure), 0.0, abs_tol=1e-12)
    off = [fitting.Prediction(0.5, True)] * 4
    assert math.isclose(fitting.rmse_bins(off), 0.5)
    assert math.isnan(fitting.log_loss([]))
