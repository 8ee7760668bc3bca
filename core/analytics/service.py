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

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    String,
    bindparam,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.models import MEASURES, DailyActivity
from core.analytics.report import STREAK_RULE, StatsReport, TaskStats, figures, summary_text
from core.analytics.rollup import ROLLUP, follow_zone
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
    """The user's statistics for `week`, `month` or `all`, days in the user's time zone:
    three statements (the per-day rows, the totals, the minutes per subject)."""
    zone = user_zone(user)
    today = now.astimezone(zone).date()
    joined = user.created_at.astimezone(zone).date() if user.created_at else today
    days = _period_days(period, today, joined)
    window_start = min(days[0], today - timedelta(days=STREAK_WINDOW_DAYS - 1))
    found: dict[str, dict[date, float]] = {key: {} for key in _DAY_KEYS}
    targets = [found[key] for key in _DAY_KEYS]
    connection = await session.connection()
    last = today + timedelta(days=FORECAST_DAYS - 1)
    rows = await connection.execute(
        DAY_ROWS,
        {"user_id": user.id, "since": window_start, "zone": zone.key, "today": today, "last": last},
    )
    for day, *amounts in rows:
        for series, amount in zip(targets, amounts, strict=True):
            if amount:
                series[day] = series.get(day, 0.0) + float(amount)
    found["reviews"] = found.get("activity:cards_reviewed", {})
    report = await _report(session, user, period, days, today, now, found)
    period_start = datetime.combine(days[0], time(), zone)
    subjects = await minutes_by_subject(session, user.id, since=period_start, until=now)
    report.study_by_subject = sorted(subjects.items(), key=lambda kv: (-kv[1], kv[0] or "~"))
    return report


# Rollup columns that are not things-done series, under the names `_report` reads.
_ROLLUP_KEYS = {"study_minutes": "minutes", "cards_kept": "kept"}
_EXTRA_KEYS = ("ai_requests", "ai_tokens", "due")
_DAY_KEYS = (*(_ROLLUP_KEYS.get(n, f"activity:{n}") for n in MEASURES), *_EXTRA_KEYS)


def _zeros(names: tuple[str, ...]) -> list[Any]:
    return [literal(0, BigInteger).label(n) for n in names]


def _day_rows() -> Any:
    """(day, *MEASURES, ai_requests, ai_tokens, due) rows, several for one day at most:
    the rollup's days; the tutor's usage per (UTC) day; the cards due in each of the next
    7 days (overdue ones count for today). Each read by the user's primary key or index.
    Built once, with bound parameters: user_id, since, zone, today, last."""
    user_id, since = bindparam("user_id", type_=BigInteger), bindparam("since", type_=Date)
    today, last = bindparam("today", type_=Date), bindparam("last", type_=Date)
    rollup = select(
        DailyActivity.day, *(ROLLUP.c[n] for n in MEASURES), *_zeros(_EXTRA_KEYS)
    ).where(DailyActivity.user_id == user_id, DailyActivity.day >= since)
    usage = select(
        TutorUsage.day,
        *_zeros(MEASURES),
        TutorUsage.requests,
        TutorUsage.tokens_in + TutorUsage.tokens_out,
        literal(0, BigInteger),
    ).where(TutorUsage.user_id == user_id, TutorUsage.day >= since)
    due_day = cast(func.timezone(bindparam("zone", type_=String), CardState.due), Date)
    bucket = func.greatest(due_day, today)
    due = (
        select(bucket, *_zeros(MEASURES), *_zeros(_EXTRA_KEYS[:2]), func.count())
        .where(CardState.user_id == user_id, due_day <= last)
        .group_by(bucket)
    )
    return union_all(rollup, usage, due)


def _totals_query() -> Any:
    """The user's own tasks now (all, done, open past their due time) and linked accounts.
    Bound parameters: user_id, now."""
    user_id = bindparam("user_id", type_=BigInteger)
    now = bindparam("now", type_=DateTime(timezone=True))
    linked = select(func.count()).where(Identity.user_id == user_id).scalar_subquery()
    return select(
        func.count(),
        func.count().filter(Task.completed_at.is_not(None)),
        func.count().filter(Task.completed_at.is_(None), Task.due_at < now),
        linked,
    ).where(Task.user_id == user_id)


DAY_ROWS = _day_rows()
TOTALS = _totals_query()


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
    report.tasks, report.linked_accounts = await _totals(session, user.id, now)
    study_days = {d for d, n in minutes.items() if n > 0} | {d for d, n in reviews.items() if n}
    report.streak = _streak(study_days, today)
    return report


async def _totals(session: AsyncSession, user_id: int, now: datetime) -> tuple[TaskStats, int]:
    connection = await session.connection()
    row = (await connection.execute(TOTALS, {"user_id": user_id, "now": now})).one()
    return TaskStats(int(row[0]), int(row[1]), int(row[2])), int(row[3])


def _streak(study_days: set[date], today: date) -> int:
    """Days in a row with study, ending today (or yesterday, if today is young)."""
    day = today if today in study_days else today - timedelta(days=1)
    count = 0
    while day in study_days:
        count += 1
        day -= timedelta(days=1)
    return count
