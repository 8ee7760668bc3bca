"""The stats service: one user's figures over a period, days in the user's time zone.

- activity (things done per local day, each under its own words), study minutes, reviews
  and retention (share not rated "again" = 1), and the streak (days in a row with
  reviews or study minutes) come from the daily activity rollup (`core.analytics.rollup`):
  one primary-key range read for up to three years;
- AI usage: the tutor's own per-(UTC-)day usage rows;
- the due forecast (flashcard schedules due in each of the next 7 days) and the task
  totals are state, not history: read from their tables, by the user's indexes;
- study minutes per subject over the period: the study log (`core.rooms.studylog`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, Float, Select, cast, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.report import STREAK_RULE, StatsReport, TaskStats, figures, summary_text
from core.analytics.rollup import days_of, follow_zone
from core.analytics.vocabulary import BY_KEY, SERIES
from core.errors import BadInput
from core.flashcards.models import CardState
from core.identity.models import Identity, User
from core.identity.service import user_zone
from core.rooms.studylog import minutes_by_subject
from core.tasks.models import Task
from core.tutor.models import TutorUsage

__all__ = [
    "STREAK_RULE",
    "StatsReport",
    "TaskStats",
    "figures",
    "follow_zone",
    "parse_period",
    "summary_text",
    "user_stats",
]

PERIODS = {"week": 7, "month": 30}
ALL_CAP_DAYS = 3 * 366
STREAK_WINDOW_DAYS = 366
FORECAST_DAYS = 7


def parse_period(text: str) -> str:
    cleaned = text.strip().lower() or "week"
    if cleaned not in (*PERIODS, "all"):
        raise BadInput("Use /stats week, /stats month or /stats all.")
    return cleaned


def _period_days(period: str, today: date, joined: date) -> list[date]:
    if period == "all":
        length = min(max((today - joined).days + 1, 1), ALL_CAP_DAYS)
    else:
        length = PERIODS[period]
    return [today - timedelta(days=n) for n in range(length - 1, -1, -1)]


async def user_stats(session: AsyncSession, user: User, period: str, now: datetime) -> StatsReport:
    """The user's statistics for `week`, `month` or `all`, days in the user's time zone."""
    zone = user_zone(user)
    today = now.astimezone(zone).date()
    joined = user.created_at.astimezone(zone).date() if user.created_at else today
    days = _period_days(period, today, joined)
    window_start = min(days[0], today - timedelta(days=STREAK_WINDOW_DAYS - 1))
    found: dict[str, dict[date, float]] = {}
    for day, amounts in (await days_of(session, user.id, window_start)).items():
        for name, amount in amounts.items():
            if amount:
                found.setdefault(_ROLLUP_KEYS.get(name, f"activity:{name}"), {})[day] = amount
    found["reviews"] = found.get("activity:cards_reviewed", {})
    parts = [*_usage_queries(user.id, window_start), *_due_queries(user.id, zone.key, today)]
    for key, day, amount in await session.execute(union_all(*parts)):
        series = found.setdefault(key, {})
        series[day] = series.get(day, 0.0) + float(amount)
    report = await _report(session, user, period, days, today, now, found)
    period_start = datetime.combine(days[0], time(), zone)
    subjects = await minutes_by_subject(session, user.id, since=period_start, until=now)
    report.study_by_subject = sorted(subjects.items(), key=lambda kv: (-kv[1], kv[0] or "~"))
    return report


# Rollup columns that are not things-done series, under the names `_report` reads.
_ROLLUP_KEYS = {"study_minutes": "minutes", "cards_kept": "kept"}


def _due_queries(user_id: int, zone: str, today: date) -> list[Select[Any]]:
    """Cards due per day over the next week; overdue ones count for today."""
    day = cast(func.timezone(zone, CardState.due), Date)
    bucket = func.greatest(day, today)
    last = today + timedelta(days=FORECAST_DAYS - 1)
    return [
        select(literal("due").label("key"), bucket.label("day"), cast(func.count(), Float))
        .where(CardState.user_id == user_id, day <= last)
        .group_by(bucket)
    ]


def _usage_queries(user_id: int, since: date) -> list[Select[Any]]:
    """AI usage: tokens and requests per (UTC) day."""
    amounts = {
        "ai_tokens": func.sum(TutorUsage.tokens_in + TutorUsage.tokens_out),
        "ai_requests": func.sum(TutorUsage.requests),
    }
    return [
        select(literal(key).label("key"), TutorUsage.day.label("day"), cast(amount, Float))
        .where(TutorUsage.user_id == user_id, TutorUsage.day >= since)
        .group_by(TutorUsage.day)
        for key, amount in amounts.items()
    ]


async def _report(
    session: AsyncSession,
    user: User,
    period: str,
    days: list[date],
    today: date,
    now: datetime,
    found: dict[str, dict[date, float]],
) -> StatsReport:
    report = StatsReport(period, days)
    for series in SERIES:
        per_day = found.get(f"activity:{series.key}", {})
        values = [int(per_day.get(d, 0)) for d in days]
        if any(values):
            report.activity[BY_KEY[series.key].many] = values
    minutes, reviews = found.get("minutes", {}), found.get("reviews", {})
    report.study_minutes = [round(minutes.get(d, 0.0), 1) for d in days]
    report.reviews = [int(reviews.get(d, 0)) for d in days]
    total_reviews = sum(report.reviews)
    if total_reviews:
        kept = found.get("kept", {})
        report.retention = round(sum(kept.get(d, 0.0) for d in days) / total_reviews, 4)
    report.due_days = [today + timedelta(days=n) for n in range(FORECAST_DAYS)]
    due = found.get("due", {})
    report.due_forecast = [int(due.get(d, 0)) for d in report.due_days]
    ai_requests, ai_tokens = found.get("ai_requests", {}), found.get("ai_tokens", {})
    report.ai_requests = [int(ai_requests.get(d, 0)) for d in days]
    report.ai_tokens = [int(ai_tokens.get(d, 0)) for d in days]
    report.tasks = await _task_stats(session, user.id, now)
    study_days = {d for d, n in minutes.items() if n > 0} | {d for d, n in reviews.items() if n}
    report.streak = _streak(study_days, today)
    report.linked_accounts = int(
        await session.scalar(select(func.count()).where(Identity.user_id == user.id)) or 0
    )
    return report


async def _task_stats(session: AsyncSession, user_id: int, now: datetime) -> TaskStats:
    """The user's own tasks now: all, done, open past their due time."""
    done = Task.completed_at.is_not(None)
    overdue = func.count().filter(Task.completed_at.is_(None), Task.due_at < now)
    row = (
        await session.execute(
            select(func.count(), func.count().filter(done), overdue).where(Task.user_id == user_id)
        )
    ).one()
    return TaskStats(int(row[0]), int(row[1]), int(row[2]))


def _streak(study_days: set[date], today: date) -> int:
    """Days in a row with study, ending today (or yesterday, if today is young)."""
    day = today if today in study_days else today - timedelta(days=1)
    count = 0
    while day in study_days:
        count += 1
        day -= timedelta(days=1)
    return count
