"""Weekly goals (/goal): minutes studied, cards reviewed, tasks done from Monday 00:00 to
the next Monday in the owner's zone. A direct chat's goal is the student's own; a room's
goal is shared by its members and counts what all of them did."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadInput, NotFound
from core.flashcards.models import ReviewLog
from core.identity.models import Membership, Room, User
from core.identity.service import user_zone
from core.insights.hours import format_minutes
from core.insights.models import Goal
from core.rooms.models import StudySession
from core.rooms.service import room_zone
from core.tasks.models import Task

MINUTES, REVIEWS, TASKS = "minutes", "reviews", "tasks"
METRICS = (MINUTES, REVIEWS, TASKS)
LABELS = {MINUTES: "Study time", REVIEWS: "Cards reviewed", TASKS: "Tasks done"}
LIMITS = {MINUTES: 7 * 16 * 60, REVIEWS: 20_000, TASKS: 1_000}
GOAL_USAGE = "/goal <amount> <study|reviews|tasks> | /goal off <study|reviews|tasks>"
GOAL_EXAMPLES = "`/goal 5h study`, `/goal 200 reviews`, `/goal 10 tasks`"
BAR_CELLS = 10

_WORDS = {
    MINUTES: {"study", "studying", "studied", "time", "focus", "minutes", "min", "hours"},
    REVIEWS: {"review", "reviews", "reviewed", "cards", "card", "flashcards"},
    TASKS: {"task", "tasks", "todo", "todos", "done"},
}
_OFF = {"off", "del", "delete", "rm", "remove", "clear", "none"}
_DURATION = re.compile(r"^(?:(\d{1,3}(?:[.,]\d{1,2})?)h(?:(\d{1,2})m?)?|(\d{1,5})m(?:in)?)$")


@dataclass(frozen=True)
class GoalChange:
    metric: str
    target: int | None  # None: remove the goal


@dataclass(frozen=True)
class Progress:
    metric: str
    target: int
    done: int

    @property
    def met(self) -> bool:
        return self.done >= self.target

    @property
    def share(self) -> float:
        return min(1.0, self.done / self.target)


def _metric(word: str) -> str | None:
    return next((m for m, words in _WORDS.items() if word in words), None)


def _duration(word: str) -> int | None:
    found = _DURATION.match(word)
    if found is None:
        return None
    if found[3] is not None:
        return int(found[3])
    hours = float(found[1].replace(",", "."))
    return round(hours * 60) + int(found[2] or 0)


def parse_goal(text: str) -> GoalChange:
    """`5h study`, `study 300m`, `200 reviews`, `10 tasks`, `off reviews` -> a change."""
    words = text.lower().replace("hours", "h").replace("hour", "h").split()
    words = [w for w in words if w not in ("a", "per", "week", "weekly", "each", "every")]
    if not words:
        raise BadInput(f"Which goal? {GOAL_EXAMPLES}.")
    if words[0] in _OFF:
        metric = _metric(words[1]) if len(words) == 2 else None
        if metric is None:
            raise BadInput("Which goal to remove? `/goal off study`, `reviews` or `tasks`.")
        return GoalChange(metric, None)
    joined = "".join(words)
    minutes = _duration(joined.removesuffix("study").removeprefix("study"))
    if minutes is not None and (len(words) == 1 or _metric(words[-1]) in (MINUTES, None)):
        return _checked(MINUTES, minutes)
    amount = next((w for w in words if w.isdecimal()), None)
    named = [m for w in words if (m := _metric(w)) is not None]
    if amount is None or len(named) != 1 or len(words) != 2:
        raise BadInput(f"I can't read “{' '.join(text.split())[:40]}” as a goal. {GOAL_EXAMPLES}.")
    if named[0] == MINUTES:
        return _checked(MINUTES, int(amount) * (60 if "h" in words else 1))
    return _checked(named[0], int(amount))


def _checked(metric: str, target: int) -> GoalChange:
    if target < 1:
        raise BadInput("A goal needs more than nothing: e.g. `/goal 30m study`.")
    if target > LIMITS[metric]:
        limit = format_minutes(LIMITS[metric]) if metric == MINUTES else f"{LIMITS[metric]:,}"
        raise BadInput(f"That is more than a week can hold: at most {limit} of {metric}.")
    return GoalChange(metric, target)


def week_start(now: datetime, zone: ZoneInfo) -> date:
    local = now.astimezone(zone).date()
    return local - timedelta(days=local.weekday())


def week_bounds(monday: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local Monday 00:00 to the next Monday 00:00, in UTC (a DST week is 167 or 169 h)."""
    start = datetime(monday.year, monday.month, monday.day, tzinfo=zone)
    end_day = monday + timedelta(days=7)
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def measure_queries(
    user_ids: list[int], since: datetime, until: datetime
) -> tuple[Select[int], Select[int], Select[int]]:
    """The three counts of `measure` (the badge sweep's EXPLAIN prints them)."""
    minutes = select(func.coalesce(func.sum(StudySession.minutes), 0)).where(
        StudySession.user_id.in_(user_ids),
        StudySession.started_at >= since,
        StudySession.started_at < until,
    )
    reviews = select(func.count()).where(
        ReviewLog.user_id.in_(user_ids),
        ReviewLog.reviewed_at >= since,
        ReviewLog.reviewed_at < until,
    )
    tasks = select(func.count()).where(
        finisher().in_(user_ids),
        Task.completed_at >= since,
        Task.completed_at < until,
    )
    return minutes, reviews, tasks


def finisher() -> ColumnElement[int]:
    """Who finished a task: the member who did, else its owner (indexed with
    `completed_at`, migration 0093)."""
    return func.coalesce(Task.completed_by_user_id, Task.user_id)


async def measure(
    session: AsyncSession, user_ids: list[int], since: datetime, until: datetime
) -> dict[str, int]:
    """What these users did in [since, until): study minutes, reviews, tasks they finished."""
    minutes, reviews, tasks = [
        await session.scalar(query) for query in measure_queries(user_ids, since, until)
    ]
    return {MINUTES: int(minutes or 0), REVIEWS: int(reviews or 0), TASKS: int(tasks or 0)}


def owner_zone(user: User, room: Room | None) -> ZoneInfo:
    return user_zone(user) if room is None else room_zone(room)


async def goals_of(session: AsyncSession, user: User, room: Room | None) -> list[Goal]:
    owner = Goal.room_id == room.id if room is not None else Goal.user_id == user.id
    rows = await session.scalars(select(Goal).where(owner))
    return sorted(rows, key=lambda g: METRICS.index(g.metric))


async def progress(
    session: AsyncSession, user: User, room: Room | None, now: datetime
) -> list[Progress]:
    """This week's progress of the user's own goals, or of the room's shared ones."""
    goals = await goals_of(session, user, room)
    if not goals:
        return []
    since, until = week_bounds(week_start(now, owner_zone(user, room)), owner_zone(user, room))
    members = [user.id]
    if room is not None:
        members = list(
            await session.scalars(select(Membership.user_id).where(Membership.room_id == room.id))
        )
    done = await measure(session, members, since, min(until, now + timedelta(seconds=1)))
    return [Progress(g.metric, g.target, done[g.metric]) for g in goals]


async def change_goal(
    session: AsyncSession, user: User, room: Room | None, change: GoalChange
) -> None:
    owner = {"room_id": room.id} if room is not None else {"user_id": user.id}
    if change.target is None:
        column = Goal.room_id if room is not None else Goal.user_id
        gone = await session.execute(
            delete(Goal)
            .where(column == next(iter(owner.values())), Goal.metric == change.metric)
            .returning(Goal.id)
        )
        if gone.first() is None:
            raise NotFound(f"There is no {LABELS[change.metric].lower()} goal to remove.")
        return
    key = ["room_id" if room is not None else "user_id", "metric"]
    await session.execute(
        insert(Goal)
        .values(**owner, metric=change.metric, target=change.target, set_by_user_id=user.id)
        .on_conflict_do_update(
            index_elements=key,
            set_={"target": change.target, "set_by_user_id": user.id, "updated_at": func.now()},
        )
    )
    await session.flush()


def amount(metric: str, value: int) -> str:
    if metric == MINUTES:
        return format_minutes(value) if value else "0 min"
    return f"{value:,}"


def progress_line(item: Progress) -> str:
    filled = round(BAR_CELLS * item.share)
    bar = "▓" * filled + "░" * (BAR_CELLS - filled)
    tick = " ✅" if item.met else ""
    return (
        f"{LABELS[item.metric]}: {amount(item.metric, item.done)} of "
        f"{amount(item.metric, item.target)} {bar} {round(100 * item.share)}%{tick}"
    )
