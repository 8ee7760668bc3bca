"""Snoozing reminders and noticing a `/remind` sent twice.

A snoozed one-off reminder moves to its new time and fires once more; a snoozed task
reminder becomes a one-off reminder tied to the task (one per person and task), dropped
when the task is done or deleted first. Quiet hours apply when it fires, as for any
reminder to a person."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.markup import escape, shorten
from core.errors import BadInput, NotFound
from core.tasks.activity import uncount_reminders
from core.tasks.models import Reminder
from core.tasks.parsing import parse_when
from core.tasks.service import add_reminder, task_by_id

# Two /remind of the same text this close together are taken for one sent twice.
DUPLICATE_WINDOW = timedelta(hours=1)
# `/snooze <when>` without a number snoozes a reminder received this recently.
RECENT = timedelta(days=1)
_DURATION = re.compile(
    r"^(?:in\s+)?(\d{1,4})\s*(m|min|mins|minutes?|h|hr|hrs|hours?|d|days?)$", re.IGNORECASE
)


def is_plain_duration(text: str) -> bool:
    """ "10 min", "1h", "tomorrow": a snooze time with no task number before it."""
    cleaned = " ".join(text.split()).lower()
    return cleaned in ("tmr", "tomorrow") or _DURATION.match(cleaned) is not None


def tomorrow_same_time(now: datetime, zone: ZoneInfo) -> datetime:
    """The same wall-clock time on the next day in the user's zone (a DST change keeps the
    clock time, not 24 hours)."""
    local = now.astimezone(zone).replace(tzinfo=None)
    return (local + timedelta(days=1)).replace(tzinfo=zone).astimezone(UTC)


def snooze_until(
    phrase: str, now: datetime, zone: ZoneInfo, languages: tuple[str, ...]
) -> datetime:
    """When a snooze ends: a button choice (10m, 1h, tmr), a duration ("20 min", "2h"),
    "tomorrow" (same time), or any time phrase /remind understands."""
    text = " ".join(phrase.split()).lower()
    if text in ("tmr", "tomorrow"):
        return tomorrow_same_time(now, zone)
    duration = _DURATION.match(text)
    if duration is not None:
        amount, unit = int(duration.group(1)), duration.group(2)[0]
        step = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}[unit]
        at = now + amount * step
    else:
        due = parse_when(phrase, now, zone, languages) if text else None
        if due is None:
            raise BadInput(
                "Snooze until when? e.g. `/snooze 10m`, `/snooze 1h`, `/snooze tomorrow`, "
                "`/snooze 3 fri 9am` (task 3)."
            )
        at = due.at
    if at <= now:
        raise BadInput("That time has passed; snooze to a time still ahead, e.g. 1h.")
    if at - now > timedelta(days=366):
        raise BadInput("Snooze for at most a year.")
    return at


async def snooze_reminder(
    session: AsyncSession, user_id: int, reminder_id: int, at: datetime
) -> Reminder:
    """Move one of the user's reminders to `at`; it fires (once) again then."""
    reminder = await session.get(Reminder, reminder_id, with_for_update=True)
    if reminder is None or reminder.user_id != user_id:
        raise NotFound("That reminder doesn't exist any more. Set a new one with /remind.")
    reminder.remind_at, reminder.sent_at = at, None
    await session.flush()
    return reminder


async def snooze_task(
    session: AsyncSession, user_id: int, task_id: int, at: datetime, now: datetime
) -> Reminder:
    """Remind the user of a task (theirs or their room's) again at `at`, replacing a
    snooze of the same task still pending."""
    task = await task_by_id(session, user_id, task_id)
    if task.completed_at is not None:
        raise BadInput(f"Task {task.number} is already done; nothing to snooze.")
    pending = (
        Reminder.user_id == user_id,
        Reminder.task_id == task.id,
        Reminder.sent_at.is_(None),
    )
    await uncount_reminders(session, *pending)
    await session.execute(delete(Reminder).where(*pending))
    reminder = await add_reminder(session, user_id, task.title, at, now=now)
    reminder.task_id = task.id
    await session.flush()
    return reminder


async def last_received(session: AsyncSession, user_id: int, now: datetime) -> Reminder:
    """The reminder the user got last (within a day), for `/snooze <when>`."""
    reminder = await session.scalar(
        select(Reminder)
        .where(Reminder.user_id == user_id, Reminder.sent_at >= now - RECENT)
        .order_by(Reminder.sent_at.desc(), Reminder.id.desc())
        .limit(1)
    )
    if reminder is None:
        raise NotFound(
            "You've had no reminder today to snooze. For a task: /snooze <n> <when>, "
            "e.g. /snooze 3 1h."
        )
    return reminder


async def duplicate_of(
    session: AsyncSession, user_id: int, text: str, at: datetime
) -> Reminder | None:
    """A pending reminder of the user with the same text, due close to `at`."""
    cleaned = " ".join(text.split()).lower()
    if "\x00" in cleaned:
        return None  # not storable: adding it is refused with its own message
    found: Reminder | None = await session.scalar(
        select(Reminder)
        .where(
            Reminder.user_id == user_id,
            Reminder.sent_at.is_(None),
            Reminder.task_id.is_(None),
            func.lower(Reminder.text) == cleaned,
            Reminder.remind_at.between(at - DUPLICATE_WINDOW, at + DUPLICATE_WINDOW),
        )
        .order_by(Reminder.id)
        .limit(1)
    )
    return found


async def copy_reminder(
    session: AsyncSession, user_id: int, reminder_id: int, at: datetime, now: datetime
) -> Reminder:
    """A second reminder with the text of one of the user's (the "add another anyway")."""
    original = await session.get(Reminder, reminder_id)
    if original is None or original.user_id != user_id:
        raise NotFound("That reminder is gone; send the /remind again.")
    return await add_reminder(session, user_id, original.text, at, now=now)


def reminder_label(reminder: Reminder) -> str:
    return escape(shorten(reminder.text, 80))
