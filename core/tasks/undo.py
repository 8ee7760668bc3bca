"""Taking back a task's deletion or completion for a short while (`/undo`, the Undo
button): the task comes back exactly as it was, with its number."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadInput, NotFound
from core.identity.models import Membership
from core.tasks.activity import count_done, count_task
from core.tasks.models import Task, TaskUndo
from core.tasks.service import next_reminder, reminder_minutes_for, task_by_id

UNDO_FOR = timedelta(minutes=10)
_COLUMNS = (
    "id",
    "user_id",
    "room_id",
    "number",
    "title",
    "notes",
    "subject",
    "priority",
    "due_at",
    "completed_at",
    "created_by_user_id",
    "completed_by_user_id",
    "created_at",
    "updated_at",
)
_TIMES = {"due_at", "completed_at", "created_at", "updated_at"}


def _restored(before: dict[str, Any]) -> dict[str, Any]:
    return {
        k: datetime.fromisoformat(v) if k in _TIMES and v is not None else v
        for k, v in before.items()
    }


async def record(
    session: AsyncSession,
    user_id: int,
    kind: str,
    task_id: int,
    before: dict[str, Any],
    now: datetime,
) -> TaskUndo:
    """Keep what a deletion or completion changed (`before`: the task's `snapshot` taken
    before the change). The user's entries older than UNDO_FOR are let go."""
    await session.execute(
        delete(TaskUndo).where(TaskUndo.user_id == user_id, TaskUndo.created_at < now - UNDO_FOR)
    )
    entry = TaskUndo(user_id=user_id, kind=kind, task_id=task_id, before=before, created_at=now)
    session.add(entry)
    await session.flush()
    return entry


def snapshot(task: Task) -> dict[str, Any]:
    """The task's columns, as `record` keeps them."""
    values = {name: getattr(task, name) for name in _COLUMNS}
    return {k: v.isoformat() if k in _TIMES and v is not None else v for k, v in values.items()}


async def latest(session: AsyncSession, user_id: int, now: datetime) -> TaskUndo | None:
    found: TaskUndo | None = await session.scalar(
        select(TaskUndo)
        .where(TaskUndo.user_id == user_id, TaskUndo.created_at >= now - UNDO_FOR)
        .order_by(TaskUndo.created_at.desc(), TaskUndo.id.desc())
        .limit(1)
    )
    return found


async def entry_for(session: AsyncSession, user_id: int, entry_id: int, now: datetime) -> TaskUndo:
    entry = await session.get(TaskUndo, entry_id, with_for_update=True)
    if entry is None or entry.user_id != user_id:
        raise NotFound("There is nothing to undo there (it was undone already, or isn't yours).")
    if entry.created_at < now - UNDO_FOR:
        raise BadInput("That is more than 10 minutes ago, too late to undo.")
    return entry


async def undo(
    session: AsyncSession, user_id: int, entry: TaskUndo, now: datetime, default_minutes: list[int]
) -> Task:
    """Put the task back as it was before the recorded change; the entry is used up."""
    before = _restored(entry.before)
    if entry.kind == "deleted":
        task = await _undelete(session, user_id, before)
        await count_task(session, task, 1)
    else:
        task = await task_by_id(session, user_id, entry.task_id)
        done_before = task.completed_at
        task.completed_at = before["completed_at"]
        task.completed_by_user_id = before["completed_by_user_id"]
        task.updated_at = now
        await count_done(session, task, done_before)
    minutes = (
        await reminder_minutes_for(session, task.user_id, default_minutes)
        if task.user_id is not None
        else default_minutes
    )
    upcoming = None if task.completed_at is not None else next_reminder(task.due_at, now, minutes)
    task.next_remind_at, task.next_remind_offset = upcoming if upcoming else (None, None)
    await session.delete(entry)
    await session.flush()
    return task


async def _undelete(session: AsyncSession, user_id: int, before: dict[str, Any]) -> Task:
    if before["room_id"] is not None:
        member = await session.scalar(
            select(Membership.id).where(
                Membership.room_id == before["room_id"], Membership.user_id == user_id
            )
        )
        if member is None:
            raise NotFound("You are no longer in that room; its task stays deleted.")
    elif before["user_id"] != user_id:
        raise NotFound("There is nothing to undo there.")
    if await session.get(Task, before["id"]) is not None:
        raise BadInput("That task is back already.")
    task = Task(**before)
    session.add(task)
    await session.flush()
    return task
