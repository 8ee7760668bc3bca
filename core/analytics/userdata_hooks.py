"""Linking two accounts: the rollup is derived from rows that move (and fold: two decks
of one name become one), so the source's days go before the move and the target's are
recomputed after it. Deleting a user needs nothing here: the rows go with the user."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.models import DailyActivity
from core.analytics.rollup import rebuild
from core.capability import UserDataHooks


async def drop_source_days(session: AsyncSession, source_id: int, target_id: int) -> None:
    await session.execute(delete(DailyActivity).where(DailyActivity.user_id == source_id))


HOOKS = UserDataHooks(merge=drop_source_days, merged=rebuild)
