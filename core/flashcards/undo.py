"""Taking back the last review grade for a short while: the card's FSRS state is put back
exactly as it was and the grade's review log row is removed, so neither the schedule nor
the optimiser's history keeps a trace of it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fsrs import Rating
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadInput, NotFound
from core.flashcards import service
from core.flashcards.activity import count_review
from core.flashcards.models import CardState, GradeUndo, ReviewLog, ReviewRound
from core.identity.models import User

UNDO_FOR = timedelta(minutes=10)
_FIELDS = ("state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses")
_TIMES = {"due", "last_review"}


def _snapshot(row: CardState) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in _FIELDS}
    return {k: v.isoformat() if k in _TIMES and v is not None else v for k, v in values.items()}


def _restore(row: CardState, before: dict[str, Any]) -> None:
    for name in _FIELDS:
        value = before[name]
        if name in _TIMES and value is not None:
            value = datetime.fromisoformat(value)
        setattr(row, name, value)


async def grade_undoably(
    session: AsyncSession,
    user: User,
    run: ReviewRound,
    card_id: int,
    rating: Rating,
    shown_at: datetime,
    now: datetime,
) -> tuple[service.Graded, int | None]:
    """`service.grade`, keeping what it changed; returns the grade and the undo entry's id
    (None when nothing changed: the card had been answered already)."""
    row = await session.scalar(
        select(CardState)
        .where(CardState.user_id == user.id, CardState.card_id == card_id)
        .with_for_update()
    )
    before = _snapshot(row) if row is not None else None
    graded = await service.grade(session, user, run, card_id, rating, shown_at, now)
    if graded.already or before is None:
        return graded, None
    await session.flush()
    review_id = await session.scalar(
        select(ReviewLog.id)
        .where(ReviewLog.user_id == user.id, ReviewLog.card_id == card_id)
        .order_by(ReviewLog.id.desc())
        .limit(1)
    )
    assert review_id is not None
    await session.execute(
        delete(GradeUndo).where(GradeUndo.user_id == user.id, GradeUndo.created_at < now - UNDO_FOR)
    )
    entry = GradeUndo(
        user_id=user.id,
        card_id=card_id,
        review_id=review_id,
        round_id=run.id,
        state_before=before,
        created_at=now,
    )
    session.add(entry)
    await session.flush()
    return graded, entry.id


async def latest(session: AsyncSession, user: User, now: datetime) -> GradeUndo | None:
    found: GradeUndo | None = await session.scalar(
        select(GradeUndo)
        .where(GradeUndo.user_id == user.id, GradeUndo.created_at >= now - UNDO_FOR)
        .order_by(GradeUndo.created_at.desc(), GradeUndo.id.desc())
        .limit(1)
    )
    return found


async def entry_for(session: AsyncSession, user: User, entry_id: int, now: datetime) -> GradeUndo:
    entry = await session.get(GradeUndo, entry_id, with_for_update=True)
    if entry is None or entry.user_id != user.id:
        raise NotFound("There is nothing to undo there (it was undone already, or isn't yours).")
    if entry.created_at < now - UNDO_FOR:
        raise BadInput("That is more than 10 minutes ago, too late to undo.")
    return entry


async def undo_grade(session: AsyncSession, user: User, entry: GradeUndo) -> Rating:
    """Put the card's schedule back as it was before the grade and drop the grade's review
    log row. Only a card's latest grade can be taken back. Returns the rating undone."""
    newer = await session.scalar(
        select(ReviewLog.id).where(
            ReviewLog.user_id == user.id,
            ReviewLog.card_id == entry.card_id,
            ReviewLog.id > entry.review_id,
        )
    )
    if newer is not None:
        raise BadInput("That card was reviewed again since; only its last grade can be undone.")
    row = await session.scalar(
        select(CardState)
        .where(CardState.user_id == user.id, CardState.card_id == entry.card_id)
        .with_for_update()
    )
    log = await session.get(ReviewLog, entry.review_id)
    if row is None or log is None:
        raise NotFound("That card is gone; there is nothing to undo.")
    rating = Rating(log.rating)
    await count_review(session, user.id, log.reviewed_at, log.rating, sign=-1)
    _restore(row, entry.state_before)
    await session.delete(log)  # the entry goes with it (ON DELETE CASCADE)
    await session.flush()
    session.expunge(entry)
    return rating
