"""What tasks and reminders add to the stats (`core.analytics.rollup`), as declared in
`core.app` (tasks added by `created_at`, done by `completed_at`, reminders set by
`created_at`; a personal task only, `user_id`), counted where rows come and go."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.rollup import record
from core.tasks.models import Reminder, Task


async def count_task(session: AsyncSession, task: Task, sign: int) -> None:
    """A personal task added (1) or deleted (-1), done or not."""
    if task.user_id is None:
        return
    await record(session, task.user_id, task.created_at, tasks_added=sign)
    if task.completed_at is not None:
        await record(session, task.user_id, task.completed_at, tasks_done=sign)


async def count_done(session: AsyncSession, task: Task, before: datetime | None) -> None:
    """The task's `completed_at` went from `before` to what it is now."""
    if task.user_id is None or before == task.completed_at:
        return
    if before is not None:
        await record(session, task.user_id, before, tasks_done=-1)
    if task.completed_at is not None:
        await record(session, task.user_id, task.completed_at, tasks_done=1)


async def uncount_reminders(session: AsyncSession, *where: ColumnElement[bool]) -> None:
    """Reminders about to be deleted (or to go with their task) leave the stats."""
    rows = await session.execute(select(Reminder.user_id, Reminder.created_at).where(*where))
    for user_id, created_at in rows:
        await record(session, user_id, created_at, reminders_set=-1)
