"""Tasks and reminders: every rule and every scope check lives here.

Each function takes the acting `user_id`; room tasks (`room_id`) are visible to the
room's members only. The API and the chat commands call these functions."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, String, cast, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.markup import escape, shorten
from core.errors import BadInput, Forbidden, NotFound
from core.identity.models import Membership, User
from core.identity.service import user_zone
from core.tasks.calendar import build_feed
from core.tasks.models import CalendarToken, Reminder, Task, TaskCounter, TaskPreferences
from core.tasks.parsing import MAX_AHEAD, MAX_SUBJECT, MAX_TITLE, YEARS_AHEAD, Priority

DEFAULT_REMINDER_MINUTES: tuple[int, ...] = (60, 0)
VIEWS = ("open", "today", "week", "overdue", "done", "all")
MAX_REMINDER_TEXT = 500


@dataclass(frozen=True)
class TaskPage:
    tasks: list[Task]
    total: int
    view: str
    subject: str | None
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.tasks) < self.total


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


# Scope ---------------------------------------------------------------------


async def _check_member(session: AsyncSession, user_id: int, room_id: int) -> None:
    found = await session.scalar(
        select(Membership.id).where(Membership.room_id == room_id, Membership.user_id == user_id)
    )
    if found is None:
        raise Forbidden("Only members of this room can see its tasks.")


async def _owner_filter(
    session: AsyncSession, user_id: int, room_id: int | None
) -> ColumnElement[bool]:
    if room_id is None:
        return Task.user_id == user_id
    await _check_member(session, user_id, room_id)
    return Task.room_id == room_id


def _visible_to(user_id: int) -> ColumnElement[bool]:
    member_rooms = select(Membership.room_id).where(Membership.user_id == user_id)
    return (Task.user_id == user_id) | Task.room_id.in_(member_rooms)


async def task_by_number(
    session: AsyncSession, user_id: int, number: int, *, room_id: int | None = None
) -> Task:
    owner = await _owner_filter(session, user_id, room_id)
    task = await session.scalar(select(Task).where(owner, Task.number == number))
    if task is None:
        where = "in this room" if room_id is not None else "in your list"
        raise NotFound(f"There is no task {number} {where}.", "Send /tasks all to see them.")
    return task


async def task_by_id(session: AsyncSession, user_id: int, task_id: int) -> Task:
    """A task the user owns, or a task of a room they are a member of."""
    task = await session.scalar(select(Task).where(Task.id == task_id, _visible_to(user_id)))
    if task is None:
        raise NotFound("That task doesn't exist any more.")
    return task


# Writing -------------------------------------------------------------------


def _clean_text(text: str, what: str) -> str:
    # PostgreSQL text cannot hold NUL nor a lone surrogate (not UTF-8); refuse them here
    # rather than fail in the database.
    if "\x00" in text:
        raise BadInput(f"The {what} contains a NUL character; remove it.")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise BadInput(f"The {what} contains a broken character (a lone surrogate).") from None
    return text


def _clean_title(title: str) -> str:
    cleaned = " ".join(_clean_text(title, "title").split())
    if not cleaned:
        raise BadInput("A task needs a title.", "e.g. /task Lab report fri 5pm #chem !high")
    if len(cleaned) > MAX_TITLE:
        raise BadInput(f"That title is {len(cleaned):,} characters; keep it under {MAX_TITLE}.")
    return cleaned


def _clean_subject(subject: str | None) -> str | None:
    if subject is None:
        return None
    cleaned = _clean_text(subject, "subject").strip().lstrip("#").lower()
    bad = not cleaned or len(cleaned) > MAX_SUBJECT or "\x00" in cleaned
    if bad or any(c.isspace() for c in cleaned):
        raise BadInput(f"A subject is one word of at most {MAX_SUBJECT} characters, like #chem.")
    return cleaned


def _check_future(due_at: datetime | None, now: datetime) -> None:
    if due_at is None:
        return
    if due_at <= now:
        raise BadInput("That due time is in the past; give a time that is still ahead.")
    if due_at - now > MAX_AHEAD:
        raise BadInput(
            f"That time is more than {YEARS_AHEAD} years ahead; give one before "
            f"{now + MAX_AHEAD:%d %b %Y}."
        )


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
        await _check_member(session, user_id, room_id)
    clean_title = _clean_title(title)
    _check_future(due_at, now)
    owner = f"u{user_id}" if room_id is None else f"r{room_id}"
    task = Task(
        user_id=None if room_id is not None else user_id,
        room_id=room_id,
        number=await _next_number(session, owner),
        title=clean_title,
        notes=_clean_text(notes, "note"),
        subject=_clean_subject(subject),
        priority=int(priority),
        due_at=due_at.astimezone(UTC) if due_at else None,
        created_by_user_id=user_id,
        created_at=now,
        updated_at=now,
    )
    _schedule(task, now, await _offsets(session, task, reminder_minutes))
    session.add(task)
    await session.flush()
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
        task.title = _clean_title(changes.title)
    if changes.clear_due:
        task.due_at = None
    elif changes.due_at is not None:
        _check_future(changes.due_at, now)
        task.due_at = changes.due_at.astimezone(UTC)
    if changes.clear_subject:
        task.subject = None
    elif changes.subject is not None:
        task.subject = _clean_subject(changes.subject)
    if changes.priority is not None:
        task.priority = int(changes.priority)
    if changes.notes is not None:
        task.notes = _clean_text(changes.notes, "note")
    _schedule(task, now, await _offsets(session, task, reminder_minutes))
    task.updated_at = now
    await session.flush()
    return task


async def delete_task(session: AsyncSession, user_id: int, task_id: int) -> Task:
    """Delete a task; returns the deleted row (detached) for the confirmation."""
    task = await task_by_id(session, user_id, task_id)
    await session.delete(task)
    await session.flush()
    return task


# Reading -------------------------------------------------------------------


def _local_midnight_after(now: datetime, zone: ZoneInfo, days: int) -> datetime:
    local = now.astimezone(zone)
    day = local.date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _view_query(
    query: Select[Task], view: str, subject: str | None, now: datetime, zone: ZoneInfo
) -> Select[Task]:
    open_ = Task.completed_at.is_(None)
    if view == "open":
        query = query.where(open_)
    elif view == "today":
        query = query.where(open_, Task.due_at < _local_midnight_after(now, zone, 1))
    elif view == "week":
        query = query.where(open_, Task.due_at < _local_midnight_after(now, zone, 7))
    elif view == "overdue":
        query = query.where(open_, Task.due_at < now)
    elif view == "done":
        query = query.where(Task.completed_at.is_not(None))
    elif view != "all":
        raise BadInput(
            f"There is no list “{escape(shorten(view))}”: use {', '.join(VIEWS)} or #subject."
        )
    if subject is not None:
        query = query.where(Task.subject == _clean_subject(subject))
    return query


def _order(query: Select[Task], view: str) -> Select[Task]:
    if view == "done":
        return query.order_by(Task.completed_at.desc(), Task.number.desc())
    if view == "all":
        query = query.order_by(Task.completed_at.is_not(None))
    return query.order_by(Task.due_at.asc().nulls_last(), Task.priority, Task.number)


async def list_tasks(
    session: AsyncSession,
    user_id: int,
    view: str = "open",
    *,
    now: datetime,
    zone: ZoneInfo | None = None,
    subject: str | None = None,
    room_id: int | None = None,
    limit: int = 20,
    offset: int = 0,
) -> TaskPage:
    """One page of the user's (or a room's) tasks, sorted by due then priority.
    `view` is one of VIEWS; "today" and "week" include overdue tasks and end at midnight
    in `zone` (default: the user's own time zone)."""
    owner = await _owner_filter(session, user_id, room_id)
    if zone is None:
        user = await session.get(User, user_id)
        zone = user_zone(user) if user is not None else ZoneInfo("UTC")
    base = _view_query(select(Task).where(owner), view, subject, now, zone)
    total = await session.scalar(select(func.count()).select_from(base.subquery()))
    rows = await session.scalars(_order(base, view).limit(limit).offset(offset))
    return TaskPage(list(rows), total or 0, view, subject, offset, limit)


async def open_tasks_matching(
    session: AsyncSession, user_id: int, typed: str, *, room_id: int | None = None, limit: int = 25
) -> list[Task]:
    """Open tasks (the user's, or a room's) whose number starts with, or whose title
    contains, what was typed: for suggestions while a number is being entered."""
    owner = await _owner_filter(session, user_id, room_id)
    query = select(Task).where(owner, Task.completed_at.is_(None))
    typed = typed.strip().lstrip("#")
    if typed:
        query = query.where(
            or_(
                cast(Task.number, String).startswith(typed, autoescape=True),
                Task.title.icontains(typed, autoescape=True),
            )
        )
    return list(await session.scalars(query.order_by(Task.number).limit(limit)))


async def display_names(session: AsyncSession, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))
    return {uid: name for uid, name in rows}


# One-off reminders ---------------------------------------------------------


async def add_reminder(
    session: AsyncSession, user_id: int, text: str, remind_at: datetime, *, now: datetime
) -> Reminder:
    cleaned = " ".join(_clean_text(text, "reminder").split())
    if not cleaned:
        raise BadInput("What should I remind you of? /remind <when> <text>")
    if len(cleaned) > MAX_REMINDER_TEXT:
        raise BadInput(f"Keep a reminder under {MAX_REMINDER_TEXT} characters.")
    _check_future(remind_at, now)
    reminder = Reminder(user_id=user_id, text=cleaned, remind_at=remind_at.astimezone(UTC))
    session.add(reminder)
    await session.flush()
    return reminder


# Calendar feed -------------------------------------------------------------


async def calendar_token(
    session: AsyncSession, user_id: int, *, now: datetime, reset: bool = False
) -> str:
    """The user's feed token, created on first use; `reset` revokes the old one."""
    active = select(CalendarToken).where(
        CalendarToken.user_id == user_id, CalendarToken.revoked_at.is_(None)
    )
    if reset:
        await session.execute(
            update(CalendarToken)
            .where(CalendarToken.user_id == user_id, CalendarToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    else:
        existing = await session.scalar(active.with_for_update())
        if existing is not None:
            return existing.token
    token = secrets.token_urlsafe(24)
    session.add(CalendarToken(user_id=user_id, token=token, created_at=now))
    await session.flush()
    return token


def calendar_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/calendar/{token}.ics"


async def calendar_feed(session: AsyncSession, token: str) -> str | None:
    """The iCalendar text for a feed token; None for an unknown or revoked token."""
    if not token or len(token) > 64:
        return None
    owner = await session.scalar(
        select(CalendarToken.user_id).where(
            CalendarToken.token == token, CalendarToken.revoked_at.is_(None)
        )
    )
    if owner is None:
        return None
    tasks = await session.scalars(
        select(Task)
        .where(_visible_to(owner), Task.due_at.is_not(None))
        .order_by(Task.due_at)
        .limit(2000)
    )
    return build_feed(list(tasks))
