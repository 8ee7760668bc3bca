"""Each learner's review settings (desired retention, new cards per day) and the FSRS
parameters fitted to their own reviews."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadInput
from core.flashcards import scheduling
from core.flashcards.models import ReviewLog, StudyPrefs
from core.identity.models import User


async def get_prefs(session: AsyncSession, user: User) -> StudyPrefs:
    prefs = await session.get(StudyPrefs, user.id)
    if prefs is None:
        await session.execute(
            insert(StudyPrefs)
            .values(user_id=user.id, desired_retention=scheduling.DEFAULT_RETENTION)
            .on_conflict_do_nothing()
        )
        prefs = await session.get(StudyPrefs, user.id)
        assert prefs is not None
    return prefs


async def set_retention(session: AsyncSession, user: User, value: float) -> StudyPrefs:
    if not 0.7 <= value <= 0.99:
        raise BadInput(
            "Desired retention is a share of cards you want to remember when they come due, "
            "between 0.70 and 0.99 (default 0.90): /retention 0.9"
        )
    prefs = await get_prefs(session, user)
    prefs.desired_retention = value
    return prefs


async def set_new_per_day(session: AsyncSession, user: User, value: int) -> StudyPrefs:
    if not 0 <= value <= 9999:
        raise BadInput("New cards per day is a number from 0 to 9999: /retention new 20")
    prefs = await get_prefs(session, user)
    prefs.new_per_day = value
    return prefs


async def review_logs_for(session: AsyncSession, user_id: int) -> list[ReviewLog]:
    return list(
        await session.scalars(
            select(ReviewLog).where(ReviewLog.user_id == user_id).order_by(ReviewLog.reviewed_at)
        )
    )


async def users_to_optimize(session: AsyncSession, min_reviews: int) -> list[int]:
    """Users with at least `min_reviews` reviews and a fifth more than at their last
    optimisation."""
    counts = (
        select(ReviewLog.user_id, func.count().label("n")).group_by(ReviewLog.user_id).subquery()
    )
    rows = await session.scalars(
        select(counts.c.user_id)
        .outerjoin(StudyPrefs, StudyPrefs.user_id == counts.c.user_id)
        .where(
            counts.c.n >= min_reviews,
            or_(
                StudyPrefs.user_id.is_(None),
                counts.c.n >= func.coalesce(StudyPrefs.optimized_reviews, 0) * 1.2,
            ),
        )
        .order_by(counts.c.user_id)
    )
    return list(rows)


async def save_parameters(
    session: AsyncSession, user_id: int, parameters: Sequence[float], reviews: int, now: datetime
) -> None:
    await record_fit(session, user_id, parameters, reviews, now)


async def record_fit(
    session: AsyncSession,
    user_id: int,
    parameters: Sequence[float] | None,
    reviews: int,
    now: datetime,
) -> None:
    """Note that the user's schedule was fitted to `reviews` reviews at `now`; `parameters`
    None keeps the current ones (the fit did not predict better)."""
    await session.execute(
        insert(StudyPrefs)
        .values(user_id=user_id, desired_retention=scheduling.DEFAULT_RETENTION)
        .on_conflict_do_nothing()
    )
    values: dict[str, object] = {"optimized_at": now, "optimized_reviews": reviews}
    if parameters is not None:
        values["parameters"] = list(parameters)
    await session.execute(update(StudyPrefs).where(StudyPrefs.user_id == user_id).values(values))


async def current_parameters(session: AsyncSession, user_id: int) -> list[float] | None:
    """The user's own FSRS parameters, or None for the defaults."""
    return await session.scalar(select(StudyPrefs.parameters).where(StudyPrefs.user_id == user_id))
