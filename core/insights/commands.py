"""/exam, /exams, /hours, /plan and /forecast; /goal and /badges live in goal_commands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.chat import Ctx, Reply, Router
from core.chat.markup import escape, shorten
from core.chat.messages import Button, Card
from core.chat.router import INTEGER, Param, action_id
from core.errors import BadInput
from core.identity.service import user_zone
from core.insights import goal_commands, plans, service
from core.insights.calibration_cache import CalibrationCache
from core.insights.forecast import (
    build_forecast,
    calibration_png,
    calibration_summary,
    forecast_png,
)
from core.insights.hours import HOURS_EXAMPLE, format_minutes, format_week
from core.insights.models import Exam
from core.insights.planner import MAX_PLAN_DAYS, DayPlan
from core.insights.retention import DeckRetention

router = Router()
router.include(goal_commands.router)

AREA = "insights"
DEFAULT_PLAN_DAYS = plans.DEFAULT_PLAN_DAYS
BUTTONS_PER_ROW = 5
PLAN_USAGE = f"/plan [days 1-{MAX_PLAN_DAYS}]"


def _text(ctx: Ctx, text: str, buttons: Sequence[Sequence[Button]] = ()) -> Reply:
    # A student's plan, exams and decks are theirs: in a room only they see the reply.
    return Reply.text(text, buttons, private=ctx.room is not None)


# Exams ---------------------------------------------------------------------------------


def _exam_when(ctx: Ctx, exam: Exam) -> str:
    return plans.exam_when(exam, user_zone(ctx.user), ctx.clock.now())


def _exam_line(ctx: Ctx, number: int, exam: Exam) -> str:
    subject = f" · #{escape(exam.subject)}" if exam.subject else ""
    return f"**{number}**. {escape(exam.title)} — {_exam_when(ctx, exam)}{subject}"


async def _exam_list(ctx: Ctx, lead: str = "") -> Reply:
    exams = await service.upcoming_exams(ctx.session, ctx.user, ctx.clock.now())
    head = f"{lead}\n\n" if lead else ""
    if not exams:
        return _text(ctx, f"{head}No upcoming exams. Add one: {service.EXAM_EXAMPLE}.")
    lines = [_exam_line(ctx, n, e) for n, e in enumerate(exams, 1)]
    buttons = [
        Button(f"🗑 {n}", action_id("insights.exam_del", e.id)) for n, e in enumerate(exams, 1)
    ]
    rows = [buttons[i : i + BUTTONS_PER_ROW] for i in range(0, len(buttons), BUTTONS_PER_ROW)]
    text = f"{head}**Your exams**\n" + "\n".join(lines) + "\n\nDelete one: `/exam del <n>`."
    return _text(ctx, text, rows)


@router.command(
    "exam",
    usage=f"{service.EXAM_USAGE} | /exam del <n>",
    summary="an exam date the plan prepares you for (e.g. /exam Chemistry final dec 18)",
    area=AREA,
    params=(Param("exam", "the subject or title and the date, e.g. Chemistry final dec 18"),),
)
async def exam(ctx: Ctx, args: str) -> Reply:
    head, _, rest = args.strip().partition(" ")
    if not head:
        return await _exam_list(ctx, f"Add an exam: `{service.EXAM_USAGE}`.")
    if head.lower() in ("del", "delete", "rm"):
        number = rest.strip()
        if not number.isdecimal() or len(number) > 6:
            raise BadInput("Which exam? `/exam del <n>` with the number from /exams.")
        removed = await service.delete_exam_number(
            ctx.session, ctx.user, int(number), ctx.clock.now()
        )
        return await _exam_list(ctx, f"Deleted {escape(removed.title)}.")
    added = await service.add_exam(ctx.session, ctx.user, args, ctx.clock.now())
    return _text(
        ctx,
        f"📅 {escape(added.title)}: {_exam_when(ctx, added)}. "
        "/plan now prepares you for it; /exams lists your exams.",
    )


@router.command("exams", usage="/exams", summary="your upcoming exams", area=AREA)
async def exams(ctx: Ctx, args: str) -> Reply:
    if args.strip():
        raise BadInput("`/exams` takes nothing after it; add an exam with `/exam`.")
    return await _exam_list(ctx)


@router.action("insights.exam_del")
async def exam_delete_button(ctx: Ctx, payload: str) -> Reply:
    if not payload.isdecimal():
        raise BadInput("That button is out of date: /exams shows the current list.")
    removed = await service.delete_exam_id(ctx.session, ctx.user, int(payload))
    return await _exam_list(ctx, f"Deleted {escape(removed.title)}.")


# Hours ---------------------------------------------------------------------------------


@router.command(
    "hours",
    usage="/hours [2h weekdays, 4h weekends | mon 1h, tue 2h ...]",
    summary="your availability setting: study hours per weekday, which /plan fills",
    area=AREA,
    params=(Param("hours", "e.g. 2h weekdays, 4h weekends or mon 1h, sat off"),),
)
async def hours(ctx: Ctx, args: str) -> Reply:
    if not args.strip():
        week, chosen = await service.study_hours(ctx.session, ctx.user)
        note = "" if chosen else " (the default; you haven't set yours)"
        return _text(
            ctx, f"Your study hours: {format_week(week)}{note}.\nChange them: {HOURS_EXAMPLE}."
        )
    week = await service.set_study_hours(ctx.session, ctx.user, args)
    return _text(
        ctx,
        f"Study hours saved: {format_week(week)} ({format_minutes(sum(week))} a week). "
        "/plan fits your work into them.",
    )


# Plan ----------------------------------------------------------------------------------


def _plan_days(args: str) -> int:
    text = args.strip().lower().removesuffix("days").removesuffix("d").strip()
    if not text:
        return DEFAULT_PLAN_DAYS
    if not text.isdecimal() or not 1 <= int(text) <= MAX_PLAN_DAYS:
        raise BadInput(
            f"“{escape(shorten(args.strip(), 20))}” is not a number of days: "
            f"`{PLAN_USAGE}`, e.g. /plan 14."
        )
    return int(text)


def _day_block(day: DayPlan, today_: datetime) -> str:
    name = "Today" if day.day == today_.date() else f"{day.day:%a %d %b}"
    lines = [f"**{name}** · {plans.day_summary(day)}"]
    lines.extend(plans.item_line(item) for item in day.items)
    for item in day.overflow:
        lines.append(f"- ⚠ doesn't fit: {escape(item.label)} — {item.minutes} min")
    return "\n".join(lines)


@router.command(
    "plan",
    usage=PLAN_USAGE,
    summary="a day-by-day study plan from your tasks, due cards, exams and /hours",
    area=AREA,
    params=(
        Param("days", "how many days (default 7)", INTEGER, min_value=1, max_value=MAX_PLAN_DAYS),
    ),
)
async def plan(ctx: Ctx, args: str) -> Reply:
    days = _plan_days(args)
    result, week, chosen = await plans.plan_for(ctx.session, ctx.user, ctx.clock.now(), days)
    local_now = ctx.clock.now().astimezone(user_zone(ctx.user))
    if not any(d.items or d.overflow for d in result.days):
        return _text(ctx, plans.NOTHING_TO_PLAN)
    hours_note = format_week(week) + ("" if chosen else ", the default: set yours with /hours")
    head = f"**Your plan for {days} day{'s' if days != 1 else ''}** (hours: {hours_note})"
    blocks = [head, *(_day_block(day, local_now) for day in result.days)]
    missing = sum(item.minutes for _, item in result.overflow)
    if missing:
        blocks.append(
            f"⚠ {format_minutes(missing)} of work doesn't fit your hours. "
            "Add time with /hours, or move due dates (/edit)."
        )
    return _text(ctx, "\n\n".join(blocks))


# Forecast ------------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{round(100 * value)}%"


def _deck_line(ctx: Ctx, deck: DeckRetention, desired: float) -> str:
    line = (
        f"- **{escape(deck.deck)}**: today {_percent(deck.at_day(0))}, "
        f"in 7 days {_percent(deck.at_day(7))}, in 30 days {_percent(deck.at_day(30))}"
        f" · {deck.studied} studied"
    )
    if deck.unstudied:
        line += f", {deck.unstudied} never studied"
    if deck.exam is not None:
        zone = user_zone(ctx.user)
        on = deck.exam.starts_at.astimezone(zone)
        line += (
            f"\n  at risk by {escape(deck.exam.title)} ({on:%a %d %b}): "
            f"{deck.at_risk} card{'s' if deck.at_risk != 1 else ''} below {_percent(desired)}"
        )
        if deck.unstudied:
            line += f" (+{deck.unstudied} never studied)"
    return line


@router.command(
    "forecast",
    usage="/forecast",
    summary="predicted retention per deck (today, 7, 30 days), cards at risk, calibration",
    area=AREA,
)
async def forecast(ctx: Ctx, args: str) -> Reply:
    if args.strip():
        raise BadInput("`/forecast` takes nothing after it: it covers all your decks.")
    redis = ctx.services.redis
    cache = redis if isinstance(redis, CalibrationCache) else None
    found = await build_forecast(ctx.session, ctx.user, ctx.clock.now(), cache)
    if found is None:
        return _text(ctx, "No flashcards yet: start a deck with /deck <name> and /card.")
    lines = [
        f"**Predicted retention** if you stop reviewing now (desired {_percent(found.desired)}):",
        *(_deck_line(ctx, d, found.desired) for d in found.decks),
        "Reviewing what /review shows keeps it near your desired retention.",
        calibration_summary(found.calibration),
    ]
    fields = (
        ("decks", str(len(found.decks))),
        ("cards at risk before an exam", str(found.at_risk)),
    )
    image = await forecast_png(found)
    parts = [Card("Retention forecast", fields, image=image, image_name="forecast.png")]
    if (curve := await calibration_png(found.calibration)) is not None:
        shown = (("reviews compared", f"{found.calibration.predictions:,}"),)
        parts.append(
            Card("Predicted vs recalled", shown, image=curve, image_name="calibration.png")
        )
    return _text(ctx, "\n".join(lines)).with_parts(*parts)
