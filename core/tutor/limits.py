"""Per-user limits and accounting: requests per minute (in Redis, shared by every
process) and tokens per UTC day (in PostgreSQL, next to the usage it limits)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.tutor.models import TutorUsage


class RedisLike(Protocol):
    """The two commands the limiter needs (redis.asyncio.Redis has them)."""

    def incr(self, name: str) -> Awaitable[Any]: ...
    def expire(self, name: str, time: int) -> Awaitable[Any]: ...


class RateLimited(Exception):
    def __init__(self, retry_in: int) -> None:
        super().__init__(f"rate limited for {retry_in}s")
        self.retry_in = retry_in


async def check_rate(redis: RedisLike, user_id: int, now: datetime, per_minute: int) -> None:
    """Count one tutor request in the current minute; raise `RateLimited` past the limit.
    Fixed one-minute windows keyed by the clock's minute, so tests can move time."""
    if per_minute <= 0:
        return
    window = int(now.timestamp()) // 60
    key = f"teddy:tutor:rate:{user_id}:{window}"
    count = int(await redis.incr(key))
    if count == 1:
        await redis.expire(key, 120)
    if count > per_minute:
        raise RateLimited(60 - int(now.timestamp()) % 60)


async def tokens_used_today(session: AsyncSession, user_id: int, today: date) -> int:
    row = await session.scalar(
        select(TutorUsage).where(TutorUsage.user_id == user_id, TutorUsage.day == today)
    )
    return 0 if row is None else row.tokens_in + row.tokens_out


_ROW = insert(TutorUsage).values(
    user_id=bindparam("user_id"),
    day=bindparam("day"),
    requests=1,
    tokens_in=bindparam("tokens_in"),
    tokens_out=bindparam("tokens_out"),
)
# Built once with bound parameters so SQLAlchemy's statement cache can reuse it.
_ADD_USAGE = _ROW.on_conflict_do_update(
    index_elements=[TutorUsage.user_id, TutorUsage.day],
    set_={
        "requests": TutorUsage.requests + 1,
        "tokens_in": TutorUsage.tokens_in + _ROW.excluded.tokens_in,
        "tokens_out": TutorUsage.tokens_out + _ROW.excluded.tokens_out,
    },
)


async def record_usage(
    session: AsyncSession, user_id: int, today: date, tokens_in: int, tokens_out: int
) -> None:
    params = {"user_id": user_id, "day": today, "tokens_in": tokens_in, "tokens_out": tokens_out}
    await session.execute(_ADD_USAGE, params)
