"""What linking two users means for tasks beyond moving rows (see core.accounts.userdata):
the per-owner number counter. The generic merge renumbers the incoming tasks after the
kept ones; the counter must then stay ahead of every number, so the two are added."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.capability import UserDataHooks
from core.tasks.models import TaskCounter


async def merge_counters(session: AsyncSession, source_id: int, target_id: int) -> None:
    source = await session.scalar(
        select(TaskCounter.last_number).where(TaskCounter.owner == f"u{source_id}")
    )
    if source is None:
        return
    await session.execute(
        insert(TaskCounter)
        .values(owner=f"u{target_id}", last_number=source)
        .on_conflict_do_update(
            index_elements=["owner"],
            set_={"last_number": TaskCounter.last_number + source},
        )
    )
    await session.execute(delete(TaskCounter).where(TaskCounter.owner == f"u{source_id}"))


async def delete_counter(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(TaskCounter).where(TaskCounter.owner == f"u{user_id}"))


HOOKS = UserDataHooks(merge=merge_counters, delete=delete_counter)
