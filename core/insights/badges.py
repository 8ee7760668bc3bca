"""Badges: streaks of study days, milestones (reviews, hours, tasks) and a week's goal
met. Each is stored once per student (`insight_badges`, unique per key), so it is
announced once; a sweep sends at most one message per student with what is new (only the
highest of a kind), held by the outbox until their quiet hours end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, Index, cast, func, literal_column, select, text, union
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Subquery

# The streak rule is /stats' own, so a badge never disagrees with the streak shown there.
from core.analytics.service import _streak
from core.db import Database
from core.flashcards.models import ReviewLog
from core.identity.models import User
from core.identity.service import user_zone
from core.insights import goals
from core.insights.goals import MINUTES, REVIEWS, TASKS
from core.insights.models import Badge
from core.outbox.service import Notice, queue_notices
from core.rooms.models import StudySession
from core.tasks.models import Task

STREAKS = (3, 7, 14, 30, 60, 100, 200, 365)
MILESTONES = {
    REVIEWS: (100, 500, 1_000, 5_000, 10_000, 50_000),
    MINUTES: (10 * 60, 50 * 60, 100 * 60, 250 * 60, 500 * 60, 1000 * 60),
    TASKS: (10, 50, 100, 250, 500, 1_000),
}
STREAK_WINDOW_DAYS = 400
# The sweep looks at students active lately; a missed sweep is caught up on their next
# activity (badges are stored, never lost).
LOOKBACK = timedelta(hours=2)
SWEEP_BATCH = 500
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class BadgeDef:
    key: str  # "streak-7", "reviews-100", "goal-minutes-2026-11-23"
    family: str  # "streak", "reviews", ...: only the highest new one of a family is announced
    level: int
    title: str


def _milestone_title(metric: str, level: int) -> str:
    if metric == MINUTES:
        return f"⏱ {level // 60} hours studied"
    return f"📚 {level:,} cards reviewed" if metric == REVIEWS else f"✅ {level:,} tasks done"


def earned(streak: int, totals: dict[str, int]) -> list[BadgeDef]:
    """Every streak and milestone badge these figures have earned."""
    found = [
        BadgeDef(f"streak-{n}", "streak", n, f"🔥 {n}-day streak") for n in STREAKS if streak >= n
    ]
    for metric, levels in MILESTONES.items():
        found += [
            BadgeDef(f"{metric}-{n}", metric, n, _milestone_title(metric, n))
            for n in levels
            if totals.get(metric, 0) >= n
        ]
    return found


def goal_badge(metric: str, monday: date) -> BadgeDef:
    return BadgeDef(
        f"goal-{metric}-{monday.isoformat()}",
        f"goal-{metric}",
        0,
        f"🎯 weekly goal met: {goals.LABELS[metric].lower()}",
    )


def title_of(key: str) -> str:
    """The title of a stored badge key (for /badges)."""
    kind, _, rest = key.partition("-")
    if kind == "streak" and rest.isdecimal():
        return f"🔥 {rest}-day streak"
    if kind in MILESTONES and rest.isdecimal():
        return _milestone_title(kind, int(rest))
    if kind == "goal":
        metric, _, week = rest.partition("-")
        if metric in goals.LABELS:
            return f"🎯 {goals.LABELS[metric].lower()} goal, week of {week}"
    return key


def announcement(new: Sequence[BadgeDef]) -> str | None:
    """One short message: the highest new badge of each family."""
    top: dict[str, BadgeDef] = {}
    for badge in new:
        if badge.family not in top or badge.level > top[badge.family].level:
            top[badge.family] = badge
    if not top:
        return None
    lines = [b.title for b in top.values()]
    head = "🏅 New badge" + ("s" if len(lines) > 1 else "") + ": "
    return head + "; ".join(lines) + ". /badges lists them all."


async def current_streak(session: AsyncSession, user: User, now: datetime) -> int:
    zone = user_zone(user)
    since = now - timedelta(days=STREAK_WINDOW_DAYS)
    review_day = cast(func.timezone(zone.key, ReviewLog.reviewed_at), Date)
    study_day = cast(func.timezone(zone.key, StudySession.started_at), Date)
    rows = await session.scalars(
        union(
            select(review_day).where(ReviewLog.user_id == user.id, ReviewLog.reviewed_at >= since),
            select(study_day).where(
                StudySession.user_id == user.id,
                StudySession.started_at >= since,
                StudySession.minutes > 0,
            ),
        )
    )
    return _streak(set(rows), now.astimezone(zone).date())


async def check_user(session: AsyncSession, user: User, now: datetime) -> list[BadgeDef]:
    """Store the badges the user has newly earned and return them."""
    totals = await goals.measure(session, [user.id], EPOCH, now + timedelta(seconds=1))
    candidates = earned(await current_streak(session, user, now), totals)
    monday = goals.week_start(now, user_zone(user))
    candidates += [
        goal_badge(p.metric, monday)
        for p in await goals.progress(session, user, None, now)
        if p.met
    ]
    if not candidates:
        return []
    stored = await session.scalars(
        insert(Badge)
        .values([{"user_id": user.id, "key": b.key, "earned_at": now} for b in candidates])
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(Badge.key)
    )
    new_keys = set(stored)
    return [b for b in candidates if b.key in new_keys]


async def badges_of(session: AsyncSession, user: User) -> list[Badge]:
    rows = await session.scalars(
        select(Badge).where(Badge.user_id == user.id).order_by(Badge.earned_at, Badge.id)
    )
    return list(rows)


def _last_active() -> ColumnElement[datetime]:
    return func.coalesce(StudySession.ended_at, StudySession.last_seen_at, StudySession.started_at)


# The sweep's three "since" conditions each have an index (migration 0093), declared here
# with the query they serve: without them every sweep reads whole tables.
SWEEP_INDEXES = (
    Index("ix_flashcard_reviews_reviewed_at", ReviewLog.reviewed_at),
    Index("ix_study_sessions_last_active", _last_active()),
    Index(
        "ix_tasks_completed_at",
        Task.completed_at,
        postgresql_where=text("completed_at IS NOT NULL"),
    ),
    # check_user counts a student's finished tasks since EPOCH (goals.measure).
    Index(
        "ix_tasks_finisher_completed",
        goals.finisher(),
        Task.completed_at,
        postgresql_where=text("completed_at IS NOT NULL"),
    ),
)


def _active_users(since: datetime) -> Subquery:
    finisher = goals.finisher()
    return union(
        select(ReviewLog.user_id.label("user_id")).where(ReviewLog.reviewed_at >= since),
        select(StudySession.user_id).where(_last_active() >= since),
        select(finisher).where(Task.completed_at >= since, finisher.is_not(None)),
    ).subquery()


async def sweep(db: Database, now: datetime) -> int:
    """Check the students active in the last LOOKBACK; queue one message each with what is
    new. Idempotent: a badge stored before is not new again. Returns messages queued."""
    async with db.transaction() as session:
        active = _active_users(now - LOOKBACK)
        ids: list[int] = list(
            await session.scalars(select(literal_column("user_id")).select_from(active))
        )
    queued = 0
    for start in range(0, len(ids), SWEEP_BATCH):
        async with db.transaction() as session:
            users = await session.scalars(
                select(User).where(User.id.in_(ids[start : start + SWEEP_BATCH]))
            )
            notices = []
            for user in users:
                text = announcement(await check_user(session, user, now))
                if text is not None:
                    notices.append(
                        Notice("badge", text, f"badge:{user.id}:{now.isoformat()}", now, user)
                    )
            queued += await queue_notices(session, notices)
    return queued
