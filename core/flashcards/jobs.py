"""Flashcard background work: the daily "cards due" reminder and FSRS optimisation."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import Sequence
from datetime import UTC, timedelta

from fsrs import Rating
from fsrs import ReviewLog as FsrsReviewLog
from sqlalchemy import select

from core.chat.messages import Button
from core.chat.router import action_id
from core.flashcards import fitting, service
from core.flashcards.models import ReviewLog
from core.identity.models import User
from core.identity.service import user_zone
from core.jobs import JobContext, periodic
from core.outbox.service import Notice, queue_notices

log = logging.getLogger(__name__)

# FSRS optimisation needs a history to learn from; below this the defaults are better.
MIN_REVIEWS_TO_OPTIMIZE = 1000
# py-fsrs takes one Adam step per 512 reviews, five epochs: on a student's 1,000-5,000
# reviews that is 10-50 steps and the parameters hardly leave the defaults. 64 gives 8x the
# steps (bench/fsrs_fit_bench.py compares the two); the held-out check guards against
# overfitting.
FIT_MINI_BATCH = 64


@periodic("flashcards.sweep_due", timedelta(hours=1))
async def sweep_due(jc: JobContext) -> None:
    """Queue one "cards due" message per user per local day (quiet hours respected by the
    outbox). Re-running the same day changes nothing: the dedupe key holds the date."""
    now = jc.services.clock.now()
    async with jc.db.transaction() as session:
        counts = await service.due_counts_by_user(session, now)
        users = await session.scalars(select(User).where(User.id.in_(list(counts))))
        notices: list[Notice] = []
        for user in users:
            due = counts[user.id]
            local_day = now.astimezone(user_zone(user)).date()
            noun = "card is" if due == 1 else "cards are"
            notices.append(
                Notice(
                    "cards_due",
                    f"{due} flashcard {noun} due. A few minutes now keeps them fresh.",
                    f"flashcards.due:{user.id}:{local_day.isoformat()}",
                    now,
                    user=user,
                    buttons=[Button("Review now", action_id("fc.review", ""))],
                )
            )
        await queue_notices(session, notices)


@periodic("flashcards.optimize", timedelta(days=1))
async def optimize(jc: JobContext) -> None:
    """Fit each user's FSRS parameters to their own review logs with the fsrs Optimizer
    (the `optimizer` extra, installed in the worker only: torch and pandas). The fit sees the
    first 80% of the user's reviews by time and is kept only when it predicts the last 20%
    better than the current parameters (fitting.fit_and_judge). Users are redone when their
    history grew by a fifth, so running twice changes nothing."""
    if not optimizer_installed():
        log.info("fsrs optimizer not installed (pip install 'study-teddy[optimizer]')")
        return
    # Imported here so loading the jobs (the bots and the API do, to enqueue) never loads torch.
    from fsrs import optimizer as fsrs_optimizer

    # A module-level hyperparameter in py-fsrs; this worker runs one fit at a time.
    fsrs_optimizer.mini_batch_size = FIT_MINI_BATCH
    optimizer_class = fsrs_optimizer.Optimizer

    async with jc.db.transaction() as session:
        user_ids = await service.users_to_optimize(session, MIN_REVIEWS_TO_OPTIMIZE)
    for user_id in user_ids:
        async with jc.db.transaction() as session:
            logs = await service.review_logs_for(session, user_id)
            current = await service.current_parameters(session, user_id)
        try:
            outcome = await asyncio.to_thread(_fit, optimizer_class, logs, current)
        except (ImportError, ValueError, RuntimeError) as err:
            log.warning("fsrs optimisation for user %s failed: %s", user_id, err)
            continue
        log.info(
            "fsrs fit for user %s: held-out log loss %.4f current, %.4f fitted over %d reviews; %s",
            user_id,
            outcome.current_loss,
            outcome.fitted_loss,
            outcome.held_out,
            "kept the fit" if outcome.kept_fitted else "kept the current parameters",
        )
        async with jc.db.transaction() as session:
            await service.record_fit(
                session,
                user_id,
                outcome.parameters if outcome.kept_fitted else None,
                len(logs),
                jc.services.clock.now(),
            )


def optimizer_installed() -> bool:
    """fsrs imports its Optimizer without torch too (a stub that raises when used)."""
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "pandas"))


def _fit(
    optimizer_class: type, logs: Sequence[ReviewLog], current: Sequence[float] | None
) -> fitting.FitOutcome:
    def fit(train: Sequence[FsrsReviewLog]) -> list[float]:
        return [float(p) for p in optimizer_class(list(train)).compute_optimal_parameters()]

    return fitting.fit_and_judge(to_fsrs_logs(logs), current, fit)


def to_fsrs_logs(logs: Sequence[ReviewLog]) -> list[FsrsReviewLog]:
    return [
        FsrsReviewLog(
            card_id=log.card_id,
            rating=Rating(log.rating),
            review_datetime=log.reviewed_at.astimezone(UTC),
            review_duration=log.duration_ms,
        )
        for log in logs
    ]
