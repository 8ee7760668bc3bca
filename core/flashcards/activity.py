"""What flashcards add to the stats (`core.analytics.rollup`), as declared in `core.app`:
reviews by `reviewed_at` (kept: rated above "again"), decks made by `created_at`.
Deleting a deck or a note takes every learner's review log of its cards with it (the
database cascades), so those learners' rollups are recomputed after it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.rollup import rebuild, record
from core.flashcards.models import ReviewLog


async def count_review(
    session: AsyncSession, user_id: int, reviewed_at: datetime, rating: int, sign: int = 1
) -> None:
    kept = sign if rating > 1 else 0
    await record(session, user_id, reviewed_at, cards_reviewed=sign, cards_kept=kept)


async def reviewers(session: AsyncSession, where: ColumnElement[bool]) -> set[int]:
    """The users with review log rows matching `where` (about to be deleted)."""
    return set(await session.scalars(select(ReviewLog.user_id).where(where).distinct()))


async def recount(session: AsyncSession, user_ids: Iterable[int]) -> None:
    await session.flush()
    for user_id in sorted(set(user_ids)):
        await rebuild(session, user_id)
