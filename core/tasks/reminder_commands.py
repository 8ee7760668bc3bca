"""One-off reminders (`/remind`, and the answer to one sent twice), when task reminders
arrive (`/reminders`) and snoozing (the 💤 buttons and `/snooze`)."""

from __future__ import annotations

from datetime import UTC, datetime

from core.chat import Ctx, Reply, Router
from core.chat.markup import escape
from core.chat.messages import Button
from core.chat.router import INTEGER, Param, action_id
from core.errors import BadInput
from core.identity.service import user_zone
from core.tasks import service, snooze, task_text
from core.tasks.models import Reminder
from core.tasks.parsing import format_local, languages_for, parse_offsets, parse_reminder_text
from core.tasks.reminders import SNOOZE_CHOICES, before_phrase
from core.tasks.service import task_by_number

router = Router()

REMIND_USAGE = "/remind <when> <text>"
SNOOZE_USAGE = "/snooze [n] <when>"


@router.command(
    "remind",
    usage=REMIND_USAGE,
    summary="a one-off reminder",
    area="tasks",
    params=(
        Param("when", "e.g. in 20 minutes, tomorrow 9am, fri 17:00", required=True),
        Param("text", "what to remind you of", required=True),
    ),
)
async def remind_cmd(ctx: Ctx, args: str) -> Reply:
    if not args.strip():
        raise BadInput(f"`{REMIND_USAGE}`, e.g. /remind tomorrow 9am bring the lab coat")
    found = parse_reminder_text(
        args, ctx.clock.now(), user_zone(ctx.user), task_text.languages(ctx.user)
    )
    if found is None:
        raise BadInput(
            "I couldn't tell when. Start with the time: /remind in 20 minutes stretch, "
            "/remind tomorrow 9am call mom, /remind fri 17:00 submit essay."
        )
    due, text = found
    twice = await duplicate_reply(ctx, text, due.at)
    if twice is not None:
        return twice
    reminder = await service.add_reminder(
        ctx.session, ctx.user.id, text, due.at, now=ctx.clock.now()
    )
    return Reply.text(
        f"I'll remind you {task_text.when(ctx, reminder.remind_at)}: {escape(reminder.text)}",
        private=task_text.private(ctx, False),
    )


@router.command(
    "reminders",
    usage="/reminders [1d 1h 0|off]",
    summary="when task reminders arrive, before the due time",
    area="tasks",
    params=(Param("before", "times before the due time, e.g. 1d 1h 0; or off"),),
)
async def reminders_cmd(ctx: Ctx, args: str) -> Reply:
    if args.strip():
        minutes = await service.set_reminder_minutes(
            ctx.session, ctx.user.id, parse_offsets(args), now=ctx.clock.now()
        )
        if not minutes:
            return Reply.text("Task reminders off. Turn them on with /reminders 1h 0.")
        return Reply.text(f"Task reminders: {_offset_list(minutes)}.")
    minutes = await service.reminder_minutes_for(
        ctx.session, ctx.user.id, task_text.default_minutes(ctx)
    )
    current = _offset_list(minutes) if minutes else "off"
    return Reply.text(
        f"Task reminders: {current}.\nChange with `/reminders 1d 1h 0` or `/reminders off`."
    )


def _offset_list(minutes: list[int]) -> str:
    return ", ".join(
        "at the due time" if m == 0 else before_phrase(m)[3:] + " before"
        for m in sorted(minutes, reverse=True)
    )


# Snoozing ----------------------------------------------------------------------------------


def _when(ctx: Ctx, moment: datetime) -> str:
    zone = user_zone(ctx.user)
    return format_local(moment.astimezone(zone), ctx.clock.now().astimezone(zone))


def _until(ctx: Ctx, phrase: str) -> datetime:
    return snooze.snooze_until(
        phrase, ctx.clock.now(), user_zone(ctx.user), languages_for(ctx.user.locale)
    )


def _snoozed(ctx: Ctx, reminder: Reminder) -> Reply:
    return Reply.text(
        f"💤 Snoozed. I'll remind you {_when(ctx, reminder.remind_at)}: "
        f"{snooze.reminder_label(reminder)}",
        private=ctx.room is not None,
    )


@router.action("snooze")
async def snooze_button(ctx: Ctx, payload: str) -> Reply:
    kind, _, rest = payload.partition(":")
    target, _, choice = rest.partition(":")
    if kind not in ("r", "t") or not target.isdecimal() or choice not in SNOOZE_CHOICES:
        raise BadInput("That button has expired. Use /snooze <when>.")
    return await _snooze(ctx, kind, int(target), choice)


async def _snooze(ctx: Ctx, kind: str, target: int, phrase: str) -> Reply:
    at = _until(ctx, phrase)
    if kind == "t":
        reminder = await snooze.snooze_task(ctx.session, ctx.user.id, target, at, ctx.clock.now())
    else:
        reminder = await snooze.snooze_reminder(ctx.session, ctx.user.id, target, at)
    return _snoozed(ctx, reminder)


@router.command(
    "snooze",
    usage=SNOOZE_USAGE,
    summary="remind me again later: task n's reminder, or my last /remind",
    area="tasks",
    params=(
        Param(
            "number",
            "a task's number from /tasks (default: your last /remind)",
            INTEGER,
            suggest="task",
            min_value=1,
        ),
        Param("when", "e.g. 10m, 1h, tomorrow, fri 9am", required=True),
    ),
)
async def snooze_cmd(ctx: Ctx, args: str) -> Reply:
    text = " ".join(args.split())
    if not text:
        raise BadInput(
            f"`{SNOOZE_USAGE}`: /snooze 10m snoozes your last /remind, "
            "/snooze 3 1h task 3's reminder."
        )
    head, _, rest = text.partition(" ")
    if head.isdecimal() and rest and not snooze.is_plain_duration(text):
        if len(head) > 9:
            raise BadInput(f"“{head[:12]}” is not a task number. `{SNOOZE_USAGE}`")
        task = await task_by_number(ctx.session, ctx.user.id, int(head))
        return await _snooze(ctx, "t", task.id, rest)
    at = _until(ctx, text)
    last = await snooze.last_received(ctx.session, ctx.user.id, ctx.clock.now())
    if last.task_id is not None:
        reminder = await snooze.snooze_task(
            ctx.session, ctx.user.id, last.task_id, at, ctx.clock.now()
        )
    else:
        reminder = await snooze.snooze_reminder(ctx.session, ctx.user.id, last.id, at)
    return _snoozed(ctx, reminder)


# A /remind sent twice ---------------------------------------------------------------------


async def duplicate_reply(ctx: Ctx, text: str, at: datetime) -> Reply | None:
    """When the same reminder is already set close to `at`: say so, with a button that adds
    this one anyway. None when there is no such reminder."""
    first = await snooze.duplicate_of(ctx.session, ctx.user.id, text, at)
    if first is None:
        return None
    return Reply.text(
        f"You already have this reminder {_when(ctx, first.remind_at)}: "
        f"{snooze.reminder_label(first)}",
        [Button("Add another anyway", action_id("remind.again", first.id, int(at.timestamp())))],
        private=ctx.room is not None,
    )


@router.action("remind.again")
async def remind_again(ctx: Ctx, payload: str) -> Reply:
    reminder_id, _, epoch = payload.partition(":")
    if not reminder_id.isdecimal() or not epoch.isdecimal() or len(epoch) > 12:
        raise BadInput("That button has expired. Send the /remind again.")
    at = datetime.fromtimestamp(int(epoch), UTC)
    copy = await snooze.copy_reminder(
        ctx.session, ctx.user.id, int(reminder_id), at, ctx.clock.now()
    )
    return Reply.text(
        f"Added another: I'll remind you {_when(ctx, copy.remind_at)}: "
        f"{snooze.reminder_label(copy)}",
        private=ctx.room is not None,
    )
