"""The stats service: one user's figures over a period, days in the user's time zone.
It reads other capabilities' tables through what each declares it counts (`activity` in
`core.app.capabilities()`); a capability that is not installed is skipped:

- activity: things done per local day, each under its own words ("tasks added");
- study minutes: study sessions (focus alone or in a group, study voice, /log) per day,
  and per subject over the period;
- reviews: review logs per day, and retention (share not rated "again" = 1);
- due forecast: flashcard states due in each of the next 7 days;
- AI usage: tutor questions and tokens per day;
- the streak: days in a row with study (reviews or study minutes)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    Float,
    Select,
    Table,
    cast,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.userdata import user_columns
from core.analytics.report import STREAK_RULE, StatsReport, TaskStats, figures, summary_text
from core.analytics.vocabulary import BY_KEY, SERIES
from core.app import activity_sources, load_models
from core.db import Base
from core.errors import BadInput
from core.identity.models import Identity, User
from core.identity.service import user_zone
from core.rooms.studylog import minutes_by_subject

__all__ = [
    "STREAK_RULE",
    "StatsReport",
    "TaskStats",
    "figures",
    "parse_period",
    "summary_text",
    "user_stats",
]

PERIODS = {"week": 7, "month": 30}
ALL_CAP_DAYS = 3 * 366
STREAK_WINDOW_DAYS = 366
FORECAST_DAYS = 7
DONE_COLUMNS = ("completed_at", "done_at")
DUE_COLUMNS = ("due_at", "due")
STUDY_TABLE = "study_sessions"
REVIEW_TABLE = "flashcard_reviews"
DUE_TABLE = "flashcard_states"
USAGE_TABLE = "tutor_usage"


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


def _local_day(column: Column[Any], zone: str) -> ColumnElement[Any]:
    return cast(func.timezone(zone, column), Date)


def _owner_clause(table: Table, user_id: int) -> ColumnElement[bool] | None:
    columns = user_columns(table, include_set_null=False) or user_columns(table)
    return None if not columns else columns[0] == user_id


def _table(name: str) -> Table | None:
    return Base.metadata.tables.get(name)


async def user_stats(session: AsyncSession, user: User, period: str, now: datetime) -> StatsReport:
    """The user's statistics for `week`, `month` or `all`, days in the user's time zone.
    Every per-day series comes from one UNION ALL query."""
    load_models()
    zone = user_zone(user)
    today = now.astimezone(zone).date()
    joined = user.created_at.astimezone(zone).date() if user.created_at else today
    days = _period_days(period, today, joined)
    window_start = min(days[0], today - timedelta(days=STREAK_WINDOW_DAYS - 1))
    since = datetime.combine(window_start, time(), zone)
    parts = _series_queries(user.id, zone.key, since, today)
    found: dict[str, dict[date, float]] = {}
    if parts:
        for key, day, amount in await session.execute(union_all(*parts)):
            series = found.setdefault(key, {})
            series[day] = series.get(day, 0.0) + float(amount)
    report = await _report(session, user, period, days, today, now, found)
    period_start = datetime.combine(days[0], time(), zone)
    subjects = await minutes_by_subject(session, user.id, since=period_start, until=now)
    report.study_by_subject = sorted(subjects.items(), key=lambda kv: (-kv[1], kv[0] or "~"))
    return report


def _series_queries(user_id: int, zone: str, since: datetime, today: date) -> list[Select[Any]]:
    queries: list[Select[Any]] = []

    def per_day(
        key: str, table: Table, stamp: Column[Any], amount: ColumnElement[Any], *where: Any
    ) -> None:
        owner = _owner_clause(table, user_id)
        if owner is None:
            return
        day = _local_day(stamp, zone)
        queries.append(
            select(literal(key).label("key"), day.label("day"), cast(amount, Float).label("n"))
            .select_from(table)
            .where(owner, stamp >= since, *where)
            .group_by(day)
        )

    for source in activity_sources():
        table = _table(source.table)
        if table is not None and source.timestamp in table.c:
            per_day(f"activity:{source.series}", table, table.c[source.timestamp], func.count())
    if (study := _table(STUDY_TABLE)) is not None:
        per_day("minutes", study, study.c.started_at, func.coalesce(func.sum(study.c.minutes), 0))
    if (reviews := _table(REVIEW_TABLE)) is not None:
        per_day("reviews", reviews, reviews.c.reviewed_at, func.count())
        per_day("kept", reviews, reviews.c.reviewed_at, func.count(), reviews.c.rating > 1)
    if (usage := _table(USAGE_TABLE)) is not None:
        queries.extend(_usage_queries(usage, user_id, since.date()))
    if (states := _table(DUE_TABLE)) is not None:
        queries.extend(_due_queries(states, user_id, zone, today))
    return queries


def _due_queries(table: Table, user_id: int, zone: str, today: date) -> list[Select[Any]]:
    """Cards due per day over the next week; overdue ones count for today."""
    owner = _owner_clause(table, user_id)
    if owner is None:
        return []
    day = _local_day(table.c.due, zone)
    bucket = func.greatest(day, today)
    last = today + timedelta(days=FORECAST_DAYS - 1)
    return [
        select(literal("due").label("key"), bucket.label("day"), cast(func.count(), Float))
        .select_from(table)
        .where(owner, day <= last)
        .group_by(bucket)
    ]


def _usage_queries(table: Table, user_id: int, since: date) -> list[Select[Any]]:
    """AI usage: tokens and requests per (UTC) day."""
    owner = _owner_clause(table, user_id)
    if owner is None:
        return []
    amounts = {"ai_tokens": func.sum(table.c.tokens_in + table.c.tokens_out)}
    if "requests" in table.c:
        amounts["ai_requests"] = func.sum(table.c.requests)
    return [
        select(literal(key).label("key"), table.c.day.label("day"), cast(amount, Float).label("n"))
        .select_from(table)
        .where(owner, table.c.day >= since)
        .group_by(table.c.day)
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


async def _task_stats(session: AsyncSession, user_id: int, now: datetime) -> TaskStats | None:
    table = _table("tasks")
    if table is None:
        return None
    owner = _owner_clause(table, user_id)
    done = next((table.c[n] for n in DONE_COLUMNS if n in table.c), None)
    due = next((table.c[n] for n in DUE_COLUMNS if n in table.c), None)
    if owner is None or done is None:
        return None
    overdue = func.count().filter(done.is_(None), due < now) if due is not None else func.count()
    row = (
        await session.execute(
            select(func.count(), func.count().filter(done.is_not(None)), overdue).where(owner)
        )
    ).one()
    return TaskStats(int(row[0]), int(row[1]), int(row[2]) if due is not None else 0)


def _streak(study_days: set[date], today: date) -> int:
    """Days in a row with study, ending today (or yesterday, if today is young)."""
    day = today if today in study_days else today - timedelta(days=1)
    count = 0
    while day in study_days:
        count += 1
        day -= timedelta(days=1)
    return count
