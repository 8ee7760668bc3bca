"""What linking two users means for solo focus sessions beyond moving rows (see
core.accounts.userdata): one person runs one solo session at a time (a unique index), so
when both accounts run one, the kept account's goes on and the other ends, its minutes
logged."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.userdata import register_user_data_hooks
from core.rooms.focus import bank_focus_minutes, finish, insert_study_rows, participants_of
from core.rooms.models import FocusSession


async def merge_solo_focus(session: AsyncSession, source_id: int, target_id: int) -> None:
    running = FocusSession.phase != "done"
    if (
        await session.scalar(
            select(FocusSession.id).where(FocusSession.user_id == target_id, running)
        )
        is None
    ):
        return
    source = await session.scalar(
        select(FocusSession).where(FocusSession.user_id == source_id, running).with_for_update()
    )
    if source is None:
        return
    # Hooks get no clock. The sweep moves `next_update_at` to the next countdown minute
    # every minute, so the earlier of it and the phase's end is within a minute of now
    # and never past the planned focus time.
    end = source.paused_at or min(source.next_update_at, source.phase_ends_at)
    end = max(end, source.started_at)
    if source.phase == "focus":
        rows = bank_focus_minutes(source, await participants_of(session, source.id), end)
        await insert_study_rows(session, rows)
    finish(source, end, stopped=True)
    await session.flush()


register_user_data_hooks("rooms", merge=merge_solo_focus)
