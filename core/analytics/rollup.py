"""The daily activity rollup (`daily_activity`), kept in the transaction of each event.

Which day an event counts for: its timestamp's date in the user's time zone, the same
day /stats always showed. Across a DST change that is the local date at that moment
(PostgreSQL's `timezone(zone, at)`). When the user changes their time zone, `rebuild`
recomputes their rollup in the new zone, so the history moves with the zone as the
figures did before the rollup (one INSERT ... SELECT over their rows).

The write side is explicit: each capability calls `record` where its rows come, go or
change (a task done, a review undone), with the amounts its `ActivitySource`
declarations say; paths that remove many rows at once (a deck deleted with its reviews)
call `rebuild`. This module imports no capability but identity's `User` (and reads the
declarations from `core.app` only inside `rebuild`), so every capability may import it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    Select,
    cast,
    delete,
    func,
    literal,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.models import MEASURES, DailyActivity
from core.capability import ActivitySource
from core.db import Base
from core.identity.models import User

ROLLUP = DailyActivity.__table__


def _checked(amounts: dict[str, int]) -> dict[str, int]:
    unknown = set(amounts) - set(MEASURES)
    if unknown:
        raise ValueError(f"not a daily_activity measure: {sorted(unknown)}")
    return {name: int(n) for name, n in amounts.items() if n}


def _upsert(values: Any, columns: list[str]) -> Any:
    """INSERT `values` (user_id, day, *columns) adding to the row of that user and day."""
    statement = insert(DailyActivity).from_select(["user_id", "day", *columns], values)
    return statement.on_conflict_do_update(
        index_elements=["user_id", "day"],
        set_={name: ROLLUP.c[name] + statement.excluded[name] for name in columns},
    )


async def record(session: AsyncSession, user_id: int, at: datetime | None, **amounts: int) -> None:
    """Add `amounts` (negative to take back) to the user's day of `at` (None: now in the
    database, for a row stamped by its server default): one statement."""
    found = _checked(amounts)
    if not found:
        return
    day = cast(func.timezone(User.timezone, func.now() if at is None else at), Date)
    values = select(
        User.id, day, *(literal(n, Integer).label(name) for name, n in found.items())
    ).where(User.id == user_id)
    await session.execute(_upsert(values, list(found)))


def _source_rows(source: ActivitySource, zone: Any, user_id: int) -> Select[Any]:
    """(owner, local day, the source's amount in its column, 0 in the others) per row."""
    table = Base.metadata.tables[source.table]
    stamp, owner = table.c[source.timestamp], table.c[source.owner]
    amount = literal_column(source.amount) if source.amount else literal(1)
    query = select(
        owner.label("user_id"),
        cast(func.timezone(zone, stamp), Date).label("day"),
        *((amount if name == source.series else literal(0)).label(name) for name in MEASURES),
    ).where(stamp.is_not(None))
    if source.where:
        query = query.where(text(source.where))
    return query.where(owner == user_id)


def _recompute(user_id: int) -> Select[Any]:
    """The user's rollup rows computed from the declared sources, in their zone now."""
    from core.app import activity_sources

    zone = select(User.timezone).where(User.id == user_id).scalar_subquery()
    rows = union_all(*(_source_rows(s, zone, user_id) for s in activity_sources())).subquery()
    return select(
        literal(user_id).label("user_id"),
        rows.c.day,
        *(cast(func.sum(rows.c[name]), Integer).label(name) for name in MEASURES),
    ).group_by(rows.c.day)


async def follow_zone(session: AsyncSession, user: User, zone_before: str) -> None:
    """After the user's settings changed: their days move to the new zone, if it is new."""
    if user.timezone != zone_before:
        await rebuild(session, user.id)


async def rebuild(session: AsyncSession, user_id: int) -> None:
    """Recompute the user's whole rollup from the sources: after a time zone change, and
    after removals too broad to count one by one (a deck and its reviews)."""
    await session.execute(delete(DailyActivity).where(DailyActivity.user_id == user_id))
    await session.execute(_upsert(_recompute(user_id), list(MEASURES)))


async def recomputed(session: AsyncSession, user_id: int) -> dict[date, dict[str, int]]:
    """What `rebuild` would write, without writing it (for checks and tests)."""
    rows = (await session.execute(_recompute(user_id))).mappings()
    return {row["day"]: {name: int(row[name]) for name in MEASURES} for row in rows}


async def days_of(session: AsyncSession, user_id: int, since: date) -> dict[date, dict[str, int]]:
    """The user's rollup rows from `since` on: one primary-key range read."""
    rows = await session.execute(
        select(ROLLUP.c.day, *(ROLLUP.c[n] for n in MEASURES)).where(
            ROLLUP.c.user_id == user_id, ROLLUP.c.day >= since
        )
    )
    return {row[0]: dict(zip(MEASURES, map(int, row[1:]), strict=True)) for row in rows}
