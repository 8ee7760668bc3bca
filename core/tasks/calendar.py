"""The iCalendar (.ics) feed of a user's tasks, importable by Google and Apple calendars,
and the private token in its URL."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.tasks.models import CalendarToken, Task
from core.tasks.parsing import Priority
from core.tasks.scope import visible_to

EVENT_LENGTH = timedelta(minutes=30)
END_OF_TIME = datetime.max.replace(tzinfo=UTC)


def build_feed(tasks: Sequence[Task]) -> str:
    """One VEVENT per task with a due time (VTODO is ignored by Google Calendar)."""
    # Imported here: icalendar takes a while to import, and only the feed needs it.
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Study Teddy//Tasks//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Study Teddy tasks")
    for task in tasks:
        if task.due_at is None:
            continue
        event = Event()
        event.add("uid", f"task-{task.id}@study-teddy")
        done = task.completed_at is not None
        event.add("summary", ("✓ " if done else "") + task.title)
        event.add("dtstart", task.due_at)
        # A task due in the last half hour of year 9999 (stored before due dates had a
        # horizon) would overflow; it ends with the calendar instead.
        end = task.due_at + min(EVENT_LENGTH, END_OF_TIME - task.due_at)
        event.add("dtend", end)
        event.add("dtstamp", task.updated_at)
        details = [f"Priority: {Priority(task.priority).label}"]
        if task.subject:
            details.append(f"Subject: #{task.subject}")
            event.add("categories", [task.subject])
        if task.notes:
            details.append(task.notes)
        event.add("description", "\n".join(details))
        cal.add_component(event)
    ical: bytes = cal.to_ical()
    return ical.decode()


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
        .where(visible_to(owner), Task.due_at.is_not(None))
        .order_by(Task.due_at)
        .limit(2000)
    )
    return build_feed(list(tasks))
