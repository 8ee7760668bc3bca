"""Reading task lists: the views (/tasks today, week, overdue, done, all, #subject), one
page at a time, and what is offered while a task number is typed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.markup import escape, shorten
from core.errors import BadInput
from core.identity.models import User
from core.identity.service import user_zone
from core.tasks.models import Task
from core.tasks.scope import clean_subject, owner_filter

VIEWS = ("open", "today", "week", "overdue", "done", "all")


@dataclass(frozen=True)
class TaskPage:
    tasks: list[Task]
    total: int
    view: str
    subject: str | None
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.tasks) < self.total


def _local_midnight_after(now: datetime, zone: ZoneInfo, days: int) -> datetime:
    local = now.astimezone(zone)
    day = local.date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _view_query(
    query: Select[Task], view: str, subject: str | None, now: datetime, zone: ZoneInfo
) -> Select[Task]:
    open_ = Task.completed_at.is_(None)
    if view == "open":
        query = query.where(open_)
    elif view == "today":
        query = query.where(open_, Task.due_at < _local_midnight_after(now, zone, 1))
    elif view == "week":
        query = query.where(open_, Task.due_at < _local_midnight_after(now, zone, 7))
    elif view == "overdue":
        query = query.where(open_, Task.due_at < now)
    elif view == "done":
        query = query.where(Task.completed_at.is_not(None))
    elif view != "all":
        raise BadInput(
            f"There is no list “{escape(shorten(view))}”: use {', '.join(VIEWS)} or #subject."
        )
    if subject is not None:
        query = query.where(Task.subject == clean_subject(subject))
    return query


def _order(query: Select[Task], view: str) -> Select[Task]:
    if view == "done":
        return query.order_by(Task.completed_at.desc(), Task.number.desc())
    if view == "all":
        query = query.order_by(Task.completed_at.is_not(None))
    return query.order_by(Task.due_at.asc().nulls_last(), Task.priority, Task.number)


async def list_tasks(
    session: AsyncSession,
    user_id: int,
    view: str = "open",
    *,
    now: datetime,
    zone: ZoneInfo | None = None,
    subject: str | None = None,
    room_id: int | None = None,
    limit: int = 20,
    offset: int = 0,
) -> TaskPage:
    """One page of the user's (or a room's) tasks, sorted by due then priority.
    `view` is one of VIEWS; "today" and "week" include overdue tasks and end at midnight
    in `zone` (default: the user's own time zone)."""
    owner = await owner_filter(session, user_id, room_id)
    if zone is None:
        user = await session.get(User, user_id)
        zone = user_zone(user) if user is not None else ZoneInfo("UTC")
    base = _view_query(select(Task).where(owner), view, subject, now, zone)
    total = await session.scalar(select(func.count()).select_from(base.subquery()))
    rows = await session.scalars(_order(base, view).limit(limit).offset(offset))
    return TaskPage(list(rows), total or 0, view, subject, offset, limit)


async def open_subjects(
    session: AsyncSession, user_id: int, *, room_id: int | None = None
) -> list[str]:
    """The subjects of the user's (or a room's) open tasks, sorted: every one, not only
    those on the page shown."""
    owner = await owner_filter(session, user_id, room_id)
    rows = await session.scalars(
        select(Task.subject)
        .where(owner, Task.completed_at.is_(None), Task.subject.is_not(None))
        .distinct()
        .order_by(Task.subject)
    )
    return [subject for subject in rows if subject]


async def open_tasks_matching(
    session: AsyncSession, user_id: int, typed: str, *, room_id: int | None = None, limit: int = 25
) -> list[Task]:
    """Open tasks (the user's, or a room's) whose number starts with, or whose title
    contains, what was typed: for suggestions while a number is being entered."""
    owner = await owner_filter(session, user_id, room_id)
    query = select(Task).where(owner, Task.completed_at.is_(None))
    typed = typed.strip().lstrip("#")
    if typed:
        query = query.where(
            or_(
                cast(Task.number, String).startswith(typed, autoescape=True),
                Task.title.icontains(typed, autoescape=True),
            )
        )
    return list(await session.scalars(query.order_by(Task.number).limit(limit)))


async def display_names(session: AsyncSession, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))
    return {uid: name for uid, name in rows}
