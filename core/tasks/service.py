"""Tasks and reminders: creating, completing, changing and deleting tasks, their reminder
times, one-off reminders. Who sees what and the input checks live in `scope`, the lists
in `listing`, the calendar feed in `calendar`; this module is the one import for callers
outside the package (the API, the tutor, the chat commands) and re-exports those.

Each function takes the acting `user_id`; room tasks (`room_id`) are visible to the
room's members only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.rollup import record
from core.errors import BadInput
from core.tasks.activity import count_done, count_task, uncount_reminders
from core.tasks.calendar import calendar_feed, calendar_token, calendar_url
from core.tasks.listing import (
    VIEWS,
    TaskPage,
    display_names,
    list_tasks,
    open_subjects,
    open_tasks_matching,
)
from core.tasks.models import Reminder, Task, TaskCounter, TaskPreferences
from core.tasks.parsing import Priority
from core.tasks.scope import (
    check_future,
    check_member,
    clean_subject,
    clean_text,
    clean_title,
    task_by_id,
    task_by_number,
)

DEFAULT_REMINDER_MINUTES: tuple[int, ...] = (60, 0)
MAX_REMINDER_TEXT = 500


@dataclass(frozen=True)
class TaskChanges:
    """What `/edit` (or PATCH) changes; None leaves a field as it is."""

    title: str | None = None
    due_at: datetime | None = None
    clear_due: bool = False
    subject: str | None = None
    clear_subject: bool = False
    priority: Priority | None = None
    notes: str | None = None


# Writing -------------------------------------------------------------------


def next_reminder(
    due_at: datetime | None, after: datetime, minutes_before: Sequence[int]
) -> tuple[datetime, int] | None:
    """The first reminder (time, minutes before due) strictly after `after`."""
    if due_at is None:
        return None
    for offset in sorted(set(minutes_before), reverse=True):
        at = due_at - timedelta(minutes=offset)
        if at > after:
            return at, offset
    return None


MAX_OFFSETS = 5
MAX_OFFSET_MINUTES = 14 * 1440


async def reminder_minutes_for(
    session: AsyncSession, user_id: int, default: Sequence[int] = DEFAULT_REMINDER_MINUTES
) -> list[int]:
    """The user's reminder offsets, or `default` when they never set their own."""
    own = await session.scalar(
        select(TaskPreferences.reminder_minutes).where(TaskPreferences.user_id == user_id)
    )
    return list(own) if own is not None else list(default)


async def set_reminder_minutes(
    session: AsyncSession, user_id: int, minutes: Sequence[int], *, now: datetime
) -> list[int]:
    """Set the user's offsets (empty: no task reminders) and reschedule their open tasks."""
    cleaned = sorted(set(minutes), reverse=True)
    if len(cleaned) > MAX_OFFSETS or any(m < 0 or m > MAX_OFFSET_MINUTES for m in cleaned):
        raise BadInput(f"Up to {MAX_OFFSETS} reminders, each at most 14 days before the due time.")
    await session.execute(
        insert(TaskPreferences)
        .values(user_id=user_id, reminder_minutes=cleaned)
        .on_conflict_do_update(index_elements=["user_id"], set_={"reminder_minutes": cleaned})
    )
    open_tasks = await session.scalars(
        select(Task).where(Task.user_id == user_id, Task.completed_at.is_(None), Task.due_at > now)
    )
    for task in open_tasks:
        _schedule(task, now, cleaned)
    await session.flush()
    return cleaned


async def _offsets(session: AsyncSession, task: Task, default: Sequence[int]) -> Sequence[int]:
    if task.user_id is None:
        return default
    return await reminder_minutes_for(session, task.user_id, default)


def _schedule(task: Task, now: datetime, minutes_before: Sequence[int]) -> None:
    upcoming = (
        None if task.completed_at is not None else next_reminder(task.due_at, now, minutes_before)
    )
    task.next_remind_at, task.next_remind_offset = upcoming if upcoming else (None, None)


async def _next_number(session: AsyncSession, owner: str) -> int:
    number = await session.scalar(
        insert(TaskCounter)
        .values(owner=owner, last_number=1)
        .on_conflict_do_update(
            index_elements=["owner"], set_={"last_number": TaskCounter.last_number + 1}
        )
        .returning(TaskCounter.last_number)
    )
    assert number is not None
    return int(number)


async def create_task(
    session: AsyncSession,
    user_id: int,
    *,
    title: str,
    now: datetime,
    due_at: datetime | None = None,
    subject: str | None = None,
    priority: Priority = Priority.MEDIUM,
    notes: str = "",
    room_id: int | None = None,
    reminder_minutes: Sequence[int] = DEFAULT_REMINDER_MINUTES,
) -> Task:
    """Add a task to the user's list, or to a room's list when `room_id` is given."""
    if room_id is not None:
        await check_member(session, user_id, room_id)
    title_text = clean_title(title)
    check_future(due_at, now)
    owner = f"u{user_id}" if room_id is None else f"r{room_id}"
    task = Task(
        user_id=None if room_id is not None else user_id,
        room_id=room_id,
        number=await _next_number(session, owner),
        title=title_text,
        notes=clean_text(notes, "note"),
        subject=clean_subject(subject),
        priority=int(priority),
        due_at=due_at.astimezone(UTC) if due_at else None,
        created_by_user_id=user_id,
        created_at=now,
        updated_at=now,
    )
    _schedule(task, now, await _offsets(session, task, reminder_minutes))
    session.add(task)
    await session.flush()
    await count_task(session, task, 1)
    return task


async def complete_task(
    session: AsyncSession,
    user_id: int,
    task_id: int,
    *,
    now: datetime,
    done: bool | None = None,
    reminder_minutes: Sequence[int] = DEFAULT_REMINDER_MINUTES,
) -> Task:
    """Mark done (`done=True`), reopen (`False`) or toggle (`None`)."""
    task = await task_by_id(session, user_id, task_id)
    before = task.completed_at
    make_done = task.completed_at is None if done is None else done
    if make_done and task.completed_at is None:
        task.completed_at = now
        task.completed_by_user_id = user_id
    elif not make_done:
        task.completed_at = None
        task.completed_by_user_id = None
    _schedule(task, now, await _offsets(session, task, reminder_minutes))
    task.updated_at = now
    await session.flush()
    await count_done(session, task, before)
    return task


async def update_task(
    session: AsyncSession,
    user_id: int,
    task_id: int,
    changes: TaskChanges,
    *,
    now: datetime,
    reminder_minutes: Sequence[int] = DEFAULT_REMINDER_MINUTES,
) -> Task:
    task = await task_by_id(session, user_id, task_id)
    if changes.title is not None:
        task.title = clean_title(changes.title)
    if changes.clear_due:
        task.due_at = None
    elif changes.due_at is not None:
        check_future(changes.due_at, now)
        task.due_at = changes.due_at.astimezone(UTC)
    if changes.clear_subject:
        task.subject = None
    elif changes.subject is not None:
        task.subject = clean_subject(changes.subject)
    if changes.priority is not None:
        task.priority = int(changes.priority)
    if changes.notes is not None:
        task.notes = clean_text(changes.notes, "note")
    _schedule(task, now, await _offsets(session, task, reminder_minutes))
    task.updated_at = now
    await session.flush()
    return task


async def delete_task(session: AsyncSession, user_id: int, task_id: int) -> Task:
    """Delete a task; returns the deleted row (detached) for the confirmation."""
    task = await task_by_id(session, user_id, task_id)
    await count_task(session, task, -1)
    await uncount_reminders(session, Reminder.task_id == task.id)  # they go with it
    await session.delete(task)
    await session.flush()
    return task


# One-off reminders ---------------------------------------------------------


async def add_reminder(
    session: AsyncSession, user_id: int, text: str, remind_at: datetime, *, now: datetime
) -> Reminder:
    cleaned = " ".join(clean_text(text, "reminder").split())
    if not cleaned:
        raise BadInput("What should I remind you of? /remind <when> <text>")
    if len(cleaned) > MAX_REMINDER_TEXT:
        raise BadInput(f"Keep a reminder under {MAX_REMINDER_TEXT} characters.")
    check_future(remind_at, now)
    reminder = Reminder(user_id=user_id, text=cleaned, remind_at=remind_at.astimezone(UTC))
    session.add(reminder)
    await session.flush()
    await record(session, user_id, None, reminders_set=1)  # stamped by the database's now()
    return reminder


__all__ = [
    "DEFAULT_REMINDER_MINUTES",
    "MAX_OFFSETS",
    "MAX_OFFSET_MINUTES",
    "MAX_REMINDER_TEXT",
    "VIEWS",
    "TaskChanges",
    "TaskPage",
    "add_reminder",
    "calendar_feed",
    "calendar_token",
    "calendar_url",
    "complete_task",
    "create_task",
    "delete_task",
    "display_names",
    "list_tasks",
    "next_reminder",
    "open_subjects",
    "open_tasks_matching",
    "reminder_minutes_for",
    "set_reminder_minutes",
    "task_by_id",
    "task_by_number",
    "update_task",
]
