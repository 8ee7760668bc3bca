"""Fixed-window attempt counters in Redis, shared by every process and entry point (web
pages, REST and chat count into the same buckets)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Any, Protocol

# Wrong link codes a user may try per minute, wherever they type them.
LINK_ATTEMPTS_PER_MINUTE = 5


class RedisLike(Protocol):
    """The two commands the counter needs (redis.asyncio.Redis has them)."""

    def incr(self, name: str) -> Awaitable[Any]: ...
    def expire(self, name: str, time: int) -> Awaitable[Any]: ...


async def within_rate(
    redis: RedisLike, key: str, limit: int, now: datetime, window: int = 60
) -> bool:
    """Count one hit on `key`; False once more than `limit` hits fell in this window. The
    window comes from the clock, so tests can move time."""
    name = f"teddy:rate:{key}:{int(now.timestamp()) // window}"
    count = int(await redis.incr(name))
    if count == 1:
        await redis.expire(name, window + 5)
    return count <= limit


async def link_attempt_allowed(redis: RedisLike | None, user_id: int, now: datetime) -> bool:
    """Count one attempt to redeem a link code; codes are short, so guesses are limited."""
    if redis is None:
        return True
    return await within_rate(redis, f"link:{user_id}", LINK_ATTEMPTS_PER_MINUTE, now)
