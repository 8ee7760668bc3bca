"""The stats service. It reads the tables that exist, found through `Base.metadata`:

- activity: for every table the user owns rows in (a foreign key to users.id) with a
  `created_at`, the rows made per local day — tasks added, cards made, documents sent...;
- study minutes: tables with `duration_seconds` or `minutes` (focus sessions) per day;
- reviews: tables with `rating` and `reviewed_at` (review logs) per day, and retention
  (share of reviews not rated "again" = 1);
- completions: tables with `completed_at` (tasks done) per day;
- due forecast: tables with a `due` time (flashcard states) due in each of the next 7 days;
- tasks: the `tasks` table's total, done, overdue and completion rate.

A capability that lands later shows up without changes here as long as it follows these
column names."""

from __future__ import annotations

from dataclasses import dataclass, field
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
from core.app import load_models
from core.db import Base
from core.errors import BadInput
from core.identity.models import Identity, User
from core.identity.service import user_zone

PERIODS = {"week": 7, "month": 30}
ALL_CAP_DAYS = 3 * 366
STREAK_WINDOW_DAYS = 366
FORECAST_DAYS = 7
# Bookkeeping, not something the student did.
NOT_ACTIVITY = frozenset(
    {
        "identities",
        "memberships",
        "outbox",
        "live_messages",
        "web_sessions",
        "api_tokens",
        "link_codes",
        "processed_events",
        "calendar_tokens",
    }
)
DURATION_COLUMNS = ("duration_seconds", "minutes")
DONE_COLUMNS = ("completed_at", "done_at")
DUE_COLUMNS = ("due_at", "due")


@dataclass(frozen=True)
class TaskStats:
    total: int
    done: int
    overdue: int

    @property
    def completion_rate(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass
class StatsReport:
    period: str
    days: list[date]
    activity: dict[str, list[int]] = field(default_factory=dict)
    study_minutes: list[float] = field(default_factory=list)
    reviews: list[int] = field(default_factory=list)
    retention: float | None = None
    tasks: TaskStats | None = None
    streak: int = 0
    linked_accounts: int = 0
    due_days: list[date] = field(default_factory=list)
    due_forecast: list[int] = field(default_factory=list)
    ai_requests: list[int] = field(default_factory=list)
    ai_tokens: list[int] = field(default_factory=list)

    @property
    def total_activity(self) -> int:
        return sum(sum(series) for series in self.activity.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "days": [d.isoformat() for d in self.days],
            "activity": self.activity,
            "study_minutes": self.study_minutes,
            "reviews": self.reviews,
            "retention": self.retention,
            "tasks": None
            if self.tasks is None
            else {
                "total": self.tasks.total,
                "done": self.tasks.done,
                "overdue": self.tasks.overdue,
                "completion_rate": round(self.tasks.completion_rate, 4),
            },
            "streak": self.streak,
            "linked_accounts": self.linked_accounts,
            "due_days": [d.isoformat() for d in self.due_days],
            "due_forecast": self.due_forecast,
            "total_activity": self.total_activity,
            "ai_requests": self.ai_requests,
            "ai_tokens": self.ai_tokens,
        }


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


def _label(table: Table) -> str:
    return table.name.replace("_", " ")


async def user_stats(session: AsyncSession, user: User, period: str, now: datetime) -> StatsReport:
    """The user's statistics for `week`, `month` or `all`, days in the user's time zone.
    Every per-day series comes from one UNION ALL query over the tables that exist."""
    load_models()
    zone = user_zone(user)
    today = now.astimezone(zone).date()
    joined = user.created_at.astimezone(zone).date() if user.created_at else today
    days = _period_days(period, today, joined)
    window_start = min(days[0], today - timedelta(days=STREAK_WINDOW_DAYS - 1))
    since = datetime.combine(window_start, time(), zone)
    parts: list[Select[Any]] = []
    for table in Base.metadata.sorted_tables:
        owner = _owner_clause(table, user.id)
        if owner is not None and table.name not in NOT_ACTIVITY:
            parts.extend(_series_queries(table, owner, zone.key, since, today))
    found: dict[str, dict[date, float]] = {}
    if parts:
        for key, day, amount in await session.execute(union_all(*parts)):
            series = found.setdefault(key, {})
            series[day] = series.get(day, 0.0) + float(amount)
    return await _report(session, user, period, days, today, now, found)


def _series_queries(
    table: Table, owner: ColumnElement[bool], zone: str, since: datetime, today: date
) -> list[Select[Any]]:
    queries: list[Select[Any]] = []

    def per_day(key: str, stamp: Column[Any], amount: ColumnElement[Any], *where: Any) -> None:
        day = _local_day(stamp, zone)
        queries.append(
            select(literal(key).label("key"), day.label("day"), cast(amount, Float).label("n"))
            .select_from(table)
            .where(owner, stamp >= since, *where)
            .group_by(day)
        )

    label = _label(table)
    if "created_at" in table.c:
        per_day(f"activity:{label}", table.c.created_at, func.count())
    if "completed_at" in table.c:
        per_day(f"activity:{label} done", table.c.completed_at, func.count())
    duration = next((table.c[n] for n in DURATION_COLUMNS if n in table.c), None)
    started = next((table.c[n] for n in ("started_at", "created_at") if n in table.c), None)
    if duration is not None and started is not None:
        scale = 60.0 if duration.name == "duration_seconds" else 1.0
        per_day("minutes", started, func.coalesce(func.sum(duration), 0) / scale)
    if "rating" in table.c and "reviewed_at" in table.c:
        per_day("reviews", table.c.reviewed_at, func.count())
        per_day("kept", table.c.reviewed_at, func.count(), table.c.rating > 1)
    if {"day", "tokens_in", "tokens_out"} <= set(table.c.keys()):
        queries.extend(_usage_queries(table, owner, since.date()))
    if "due" in table.c:
        day = _local_day(table.c.due, zone)
        bucket = func.greatest(day, today)
        last = today + timedelta(days=FORECAST_DAYS - 1)
        queries.append(
            select(literal("due").label("key"), bucket.label("day"), cast(func.count(), Float))
            .select_from(table)
            .where(owner, day <= last)
            .group_by(bucket)
        )
    return queries


def _usage_queries(table: Table, owner: ColumnElement[bool], since: date) -> list[Select[Any]]:
    """AI usage: tables keeping tokens and requests per (UTC) day."""
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
    active_days: set[date] = set()
    for key, series in sorted(found.items()):
        if key.startswith("activity:") or key in ("minutes", "reviews"):
            active_days.update(d for d, n in series.items() if n)
        if key.startswith("activity:"):
            values = [int(series.get(d, 0)) for d in days]
            if any(values):
                report.activity[key.removeprefix("activity:")] = values
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
    report.streak = _streak(active_days, today)
    report.linked_accounts = int(
        await session.scalar(select(func.count()).where(Identity.user_id == user.id)) or 0
    )
    return report


async def _task_stats(session: AsyncSession, user_id: int, now: datetime) -> TaskStats | None:
    table = Base.metadata.tables.get("tasks")
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


def _streak(active: set[date], today: date) -> int:
    """Days in a row with some activity, ending today (or yesterday, if today is young)."""
    day = today if today in active else today - timedelta(days=1)
    count = 0
    while day in active:
        count += 1
        day -= timedelta(days=1)
    return count


def summary_text(report: StatsReport) -> str:
    """A few lines of chat markdown."""
    label = {"week": "the last 7 days", "month": "the last 30 days"}.get(report.period, "all time")
    lines = [f"**Your stats for {label}**"]
    total_minutes = sum(report.study_minutes)
    if total_minutes:
        lines.append(f"- study time: {total_minutes / 60:.1f} h")
    if report.tasks is not None:
        t = report.tasks
        lines.append(
            f"- tasks: {t.done}/{t.total} done ({t.completion_rate:.0%}), {t.overdue} overdue"
        )
    if sum(report.reviews):
        retention = f", retention {report.retention:.0%}" if report.retention is not None else ""
        lines.append(f"- reviews: {sum(report.reviews)}{retention}")
    if sum(report.due_forecast):
        lines.append(f"- cards due in the next 7 days: {sum(report.due_forecast)}")
    for name, series in sorted(report.activity.items()):
        lines.append(f"- {name}: {sum(series)} new")
    if sum(report.ai_requests):
        lines.append(
            f"- tutor: {sum(report.ai_requests)} questions, {sum(report.ai_tokens):,} tokens"
        )
    if report.total_activity == 0 and not total_minutes and not sum(report.reviews):
        lines.append("- nothing recorded yet: add a /task, make a /deck or send me a PDF")
    lines.append(f"- streak: {report.streak} day{'s' if report.streak != 1 else ''}")
    return "\n".join(lines)
