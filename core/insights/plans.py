"""The study plan of one user, read from their own rows: what /plan, the web page and the
morning digest show. The scheduling itself is `planner.build_plan` (pure, no I/O)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.markup import escape
from core.identity.models import User
from core.identity.service import user_zone
from core.insights import inputs, service
from core.insights.hours import format_minutes
from core.insights.models import Exam
from core.insights.planner import DayPlan, Plan, PlanInput, PlanItem, build_plan

DEFAULT_PLAN_DAYS = 7
DIGEST_PLAN_ITEMS = 5
# A superset of the days `digest_lines` says something on (an exam ahead, or cards due by
# the end of the day), read by the digest sweep for users with no task due: both EXISTS
# are index reads (ix_insight_exams_user_starts, ix_flashcard_states_user_seen_due).
DIGEST_WANTED_SQL = """
    EXISTS (SELECT 1 FROM insight_exams x
            WHERE x.user_id = t.id AND x.starts_at > CAST(:now AS timestamptz))
    OR EXISTS (SELECT 1 FROM flashcard_states s
               WHERE s.user_id = t.id AND s.last_review IS NOT NULL
                 AND s.due < t.day_end AND NOT s.suspended)
"""
NOTHING_TO_PLAN = (
    "Nothing to plan yet: add tasks with a due date (/task), exams (/exam) or "
    "flashcards (/deck, /card), and your study hours (/hours)."
)


def exam_when(exam: Exam, zone: ZoneInfo, now: datetime) -> str:
    """`Fri 18 Dec 09:00 (in 15 days)`, in the user's zone."""
    local = exam.starts_at.astimezone(zone)
    today = now.astimezone(zone).date()
    days = (local.date() - today).days
    when = f"{local:%a %d %b}" + (f" {local:%Y}" if local.year != today.year else "")
    if exam.time_given:
        when += f" {local:%H:%M}"
    soon = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
    return f"{when} ({soon})"


def day_summary(day: DayPlan) -> str:
    """`1h30 of 2h`, `2h free`, `day off` or `nothing planned`."""
    if not day.items and not day.overflow:
        return "day off" if day.capacity == 0 else "nothing planned"
    if not day.planned_minutes and not day.overflow:
        return f"{format_minutes(day.capacity)} free" if day.capacity else "day off"
    return f"{format_minutes(day.planned_minutes)} of {format_minutes(day.capacity)}"


def item_line(item: PlanItem) -> str:
    """One planned item as chat shows it (markup, escaped)."""
    minutes = f" — {item.minutes} min" if item.minutes else ""
    return f"{'🎓 ' if item.kind == 'exam' else '- '}{escape(item.label)}{minutes}"


async def plan_for(
    session: AsyncSession, user: User, now: datetime, days: int = DEFAULT_PLAN_DAYS
) -> tuple[Plan, tuple[int, ...], bool]:
    """The user's plan for `days` local days from today, their weekly minutes and whether
    they chose them (else the default)."""
    zone = user_zone(user)
    week, chosen = await service.study_hours(session, user)
    exams = await service.upcoming_exams(session, user, now)
    data = PlanInput(
        now=now,
        zone=zone,
        days=days,
        hours=week,
        tasks=await inputs.open_tasks(session, user, now, zone),
        cards=await inputs.card_loads(session, user, now, zone),
        exams=inputs.exam_inputs(exams),
        documents=await inputs.own_documents(session, user) if exams else (),
    )
    return build_plan(data), week, chosen


async def digest_lines(session: AsyncSession, user: User, now: datetime) -> list[str]:
    """Today's part of the plan for the morning digest, a few lines. Nothing when the plan
    would only repeat the digest's task list: it shows once an exam is coming or cards are
    due today."""
    plan, _, _ = await plan_for(session, user, now)
    today = plan.days[0]
    reviews = any(item.kind in ("reviews", "exam-reviews") for item in today.items)
    if not (plan.exam_decks or reviews) or not (today.items or today.overflow):
        return []
    lines = [f"**Today's plan** · {day_summary(today)}"]
    lines.extend(item_line(item) for item in today.items[:DIGEST_PLAN_ITEMS])
    if len(today.items) > DIGEST_PLAN_ITEMS or today.overflow:
        lines.append("…the rest, and the days ahead: /plan")
    return lines
