"""The sweeps behind reminders and digests. Each works in batches picked by an index
(`FOR UPDATE SKIP LOCKED`, so two workers never take the same rows), writes a batch's
reminders to the outbox in one multi-row INSERT with a dedupe key per reminder, and is safe
to run twice."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.markup import escape
from core.chat.messages import Button
from core.chat.router import action_id
from core.db import Database
from core.identity.models import Room, User
from core.identity.service import user_zone
from core.outbox.service import Notice, after_quiet_hours, notify_user, queue_notices
from core.tasks.models import Reminder, Task, TaskPreferences
from core.tasks.parsing import format_local, local_time
from core.tasks.service import next_reminder

SNOOZE_CHOICES = {"10m": "10 min", "1h": "1 h", "tmr": "Tomorrow"}

BATCH = 500
# A reminder whose moment passed this long ago (the sweep was down) is dropped, not sent.
STALE_AFTER = timedelta(hours=12)
DIGEST_WINDOW = timedelta(hours=2)
DIGEST_ITEMS = 15


def before_phrase(minutes: int) -> str:
    if minutes == 0:
        return "now"
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"in {days} day{'s' if days > 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"in {hours} hour{'s' if hours > 1 else ''}"
    return f"in {minutes} minute{'s' if minutes > 1 else ''}"


def snooze_buttons(kind: str, target_id: int) -> list[Button]:
    """💤 10 min, 1 h, Tomorrow: `kind` "t" snoozes a task's reminder, "r" a one-off."""
    return [
        Button(f"💤 {label}", action_id("snooze", kind, target_id, choice))
        for choice, label in SNOOZE_CHOICES.items()
    ]


def task_buttons(task_id: int) -> list[Button]:
    return [Button("✓ Done", action_id("tasks.done", task_id)), *snooze_buttons("t", task_id)]


def reminder_text(task: Task, minutes: int, zone_user: User | None, now: datetime) -> str:
    """Absolute times, because quiet hours may hold the message until later."""
    assert task.due_at is not None
    if zone_user is None:
        return f"⏰ Due {before_phrase(minutes)}: **{escape(task.title)}**"
    zone = user_zone(zone_user)
    when = format_local(local_time(task.due_at, zone), now.astimezone(zone))
    return f"⏰ **{escape(task.title)}** is due {when}"


async def sweep_task_reminders(
    db: Database, now: datetime, minutes_before: Sequence[int], batch: int = BATCH
) -> int:
    """Send every task reminder that has come due; returns how many were queued."""
    queued = 0
    while True:
        async with db.transaction() as session:
            tasks = list(
                await session.scalars(
                    select(Task)
                    .where(Task.next_remind_at <= now)
                    .order_by(Task.next_remind_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            )
            users, rooms = await _owners(session, tasks)
            own = await _own_offsets(session, users)
            notices: list[Notice] = []
            for task in tasks:
                offsets = own.get(task.user_id or 0, minutes_before)
                notice = _task_notice(task, users, rooms, now, offsets)
                if notice is not None:
                    notices.append(notice)
            queued += await queue_notices(session, notices)
        if len(tasks) < batch:
            return queued


async def _owners(
    session: AsyncSession, tasks: Sequence[Task]
) -> tuple[dict[int, User], dict[int, Room]]:
    user_ids = {t.user_id for t in tasks if t.user_id is not None}
    room_ids = {t.room_id for t in tasks if t.room_id is not None}
    users = (
        {u.id: u for u in await session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    rooms = (
        {r.id: r for r in await session.scalars(select(Room).where(Room.id.in_(room_ids)))}
        if room_ids
        else {}
    )
    return users, rooms


async def _own_offsets(session: AsyncSession, users: dict[int, User]) -> dict[int, list[int]]:
    if not users:
        return {}
    rows = await session.execute(
        select(TaskPreferences.user_id, TaskPreferences.reminder_minutes).where(
            TaskPreferences.user_id.in_(users)
        )
    )
    return {user_id: list(minutes) for user_id, minutes in rows}


def _task_notice(
    task: Task,
    users: dict[int, User],
    rooms: dict[int, Room],
    now: datetime,
    minutes_before: Sequence[int],
) -> Notice | None:
    """Move the task to its next reminder moment and say what to send for this one."""
    assert task.next_remind_at is not None and task.due_at is not None
    # Several moments may have passed since the last sweep: send only the latest one.
    due_offsets = [m for m in minutes_before if task.due_at - timedelta(minutes=m) <= now] or [
        task.next_remind_offset or 0
    ]
    offset = min(due_offsets)
    moment = task.due_at - timedelta(minutes=offset)
    upcoming = next_reminder(task.due_at, now, minutes_before)
    task.next_remind_at, task.next_remind_offset = upcoming if upcoming else (None, None)
    if now - moment > STALE_AFTER or task.completed_at is not None:
        return None
    key = f"task:{task.id}:{offset}:{int(task.due_at.timestamp())}"
    buttons = task_buttons(task.id)
    if task.user_id is not None:
        user = users.get(task.user_id)
        if user is None:
            return None
        if upcoming is not None and after_quiet_hours(user, now) >= upcoming[0]:
            return None  # held by quiet hours past the next reminder: that one will do
        text = reminder_text(task, offset, user, now)
        return Notice("reminder", text, key, now, user=user, buttons=buttons)
    room = rooms.get(task.room_id or 0)
    if room is None:
        return None
    text = reminder_text(task, offset, None, now)
    return Notice("reminder", text, key, now, room=room, buttons=buttons)


async def sweep_one_off_reminders(db: Database, now: datetime, batch: int = BATCH) -> int:
    queued = 0
    while True:
        async with db.transaction() as session:
            due = list(
                await session.scalars(
                    select(Reminder)
                    .where(Reminder.sent_at.is_(None), Reminder.remind_at <= now)
                    .order_by(Reminder.remind_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            )
            users = (
                {
                    u.id: u
                    for u in await session.scalars(
                        select(User).where(User.id.in_({r.user_id for r in due}))
                    )
                }
                if due
                else {}
            )
            tasks = await _snoozed_tasks(session, due)
            notices: list[Notice] = []
            for reminder in due:
                reminder.sent_at = now
                user = users.get(reminder.user_id)
                if user is None or now - reminder.remind_at > STALE_AFTER:
                    continue
                notice = _one_off_notice(reminder, user, tasks, now)
                if notice is not None:
                    notices.append(notice)
            queued += await queue_notices(session, notices)
        if len(due) < batch:
            return queued


async def _snoozed_tasks(session: AsyncSession, due: Sequence[Reminder]) -> dict[int, Task]:
    ids = {r.task_id for r in due if r.task_id is not None}
    if not ids:
        return {}
    return {t.id: t for t in await session.scalars(select(Task).where(Task.id.in_(ids)))}


def _one_off_notice(
    reminder: Reminder, user: User, tasks: dict[int, Task], now: datetime
) -> Notice | None:
    # The key holds the moment: a snoozed reminder fires again, once, at its new time.
    key = f"remind:{reminder.id}:{int(reminder.remind_at.timestamp())}"
    if reminder.task_id is None:
        text = f"⏰ Reminder: {escape(reminder.text)}"
        return Notice(
            "reminder", text, key, now, user=user, buttons=snooze_buttons("r", reminder.id)
        )
    task = tasks.get(reminder.task_id)
    if task is None or task.completed_at is not None:
        return None  # done (or gone) since it was snoozed
    if task.due_at is not None:
        text = reminder_text(task, 0, user, now)
    else:
        text = f"⏰ Reminder: **{escape(task.title)}**"
    return Notice("reminder", text, key, now, user=user, buttons=task_buttons(task.id))


# Users whose digest moment (today's, or yesterday's shortly after midnight) passed less
# than DIGEST_WINDOW ago and who have not had that day's digest. The same statement marks
# the day as done and says whether the user has anything for a digest (a task due by the
# end of that day, or what another capability declares in `digest_wanted`), so users with
# nothing cost no further query.
DIGEST_DUE_SQL = """
    WITH local AS (
        SELECT u.id, u.timezone, u.digest_time,
               (CAST(:now AS timestamptz) AT TIME ZONE u.timezone) AS ts
        FROM users u
        WHERE u.digest_time IS NOT NULL
    ), target AS (
        SELECT id, timezone, ts,
               CASE WHEN CAST(ts AS date) + digest_time <= ts
                    THEN CAST(ts AS date) + digest_time
                    ELSE CAST(ts AS date) - 1 + digest_time END AS moment
        FROM local
    ), days AS (
        SELECT id, timezone, ts, moment,
               (CAST(CAST(moment AS date) + 1 AS timestamp) AT TIME ZONE timezone) AS day_end
        FROM target
    ), due AS (
        SELECT t.id, CAST(t.moment AS date) AS day,
               EXISTS (
                   SELECT 1 FROM tasks k
                   WHERE k.user_id = t.id AND k.completed_at IS NULL AND k.due_at < t.day_end
               ){wanted} AS wanted
        FROM days t LEFT JOIN task_digests d ON d.user_id = t.id
        WHERE t.ts - t.moment < CAST(:window AS interval)
          AND (d.last_sent_on IS NULL OR d.last_sent_on < CAST(t.moment AS date))
        ORDER BY t.id
        LIMIT :batch
    ), marked AS (
        INSERT INTO task_digests (user_id, last_sent_on)
        SELECT id, day FROM due
        ON CONFLICT (user_id) DO UPDATE SET last_sent_on = EXCLUDED.last_sent_on
    )
    SELECT id, day, wanted FROM due
"""


@functools.cache
def digest_due_sql() -> str:
    """The sweep's statement with every capability's `digest_wanted` condition in it."""
    from core.app import digest_conditions  # the capabilities that build on tasks

    extra = "".join(
        f"\n               OR ({condition.strip()})" for condition in digest_conditions()
    )
    return DIGEST_DUE_SQL.replace("{wanted}", extra)


async def sweep_digests(db: Database, now: datetime, batch: int = BATCH) -> int:
    """Queue each user's daily digest of today's and overdue tasks at their digest time."""
    queued = 0
    while True:
        async with db.transaction() as session:
            rows = (
                await session.execute(
                    text(digest_due_sql()),
                    {"now": now, "window": DIGEST_WINDOW, "batch": batch},
                )
            ).all()
            wanted = {user_id: day for user_id, day, worth_it in rows if worth_it}
            users: list[User] = []
            if wanted:
                users = list(await session.scalars(select(User).where(User.id.in_(wanted))))
            for user in users:
                queued += await _send_digest(session, user, wanted[user.id], now)
        if len(rows) < batch:
            return queued


def _task_lines(tasks: list[Task], zone: ZoneInfo, now: datetime) -> list[str]:
    if not tasks:
        return []
    lines = [f"**Your tasks for {now.astimezone(zone):%a %d %b}**"]
    for task in tasks[:DIGEST_ITEMS]:
        assert task.due_at is not None
        late = " (overdue)" if task.due_at < now else ""
        lines.append(
            f"- {task.number}. {escape(task.title)} — {task.due_at.astimezone(zone):%a %H:%M}{late}"
        )
    if len(tasks) > DIGEST_ITEMS:
        lines.append("…and more: /tasks today")
    return lines


async def _send_digest(session: AsyncSession, user: User, day: date, now: datetime) -> int:
    user_id = user.id
    zone = user_zone(user)
    day_end = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(days=1)
    tasks = list(
        await session.scalars(
            select(Task)
            .where(Task.user_id == user_id, Task.completed_at.is_(None), Task.due_at < day_end)
            .order_by(Task.due_at, Task.priority, Task.number)
            .limit(DIGEST_ITEMS + 1)
        )
    )
    lines = _task_lines(tasks, zone, now)
    from core.app import digest_sources  # the capabilities that build on tasks add lines

    for source in digest_sources():
        extra = await source(session, user, now)
        if extra:
            lines.extend(["", *extra] if lines else extra)
    if not lines:
        return 0
    sent = await notify_user(
        session,
        user,
        kind="digest",
        text="\n".join(lines),
        dedupe_key=f"digest:{user_id}:{day.isoformat()}",
        at=now,
    )
    return int(sent)
