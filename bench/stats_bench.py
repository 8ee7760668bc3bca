"""Benchmark of the stats service in one process (no HTTP), for a user with a year of
history (bench/web_seed.py: 466 tasks, 313 study sessions, 5,578 reviews):

- `analytics.user_stats` for the week and for all time: p50/p99 (the reads of /stats, the
  dashboard and `GET /api/v1/stats`);
- what the rollup adds to a command: `rollup.record` (one upsert) p50/p99;
- `rollup.rebuild` of the whole year (a time zone change, a deck deleted): p50/p99.

    python -m bench.stats_bench
    python -m bench.stats_bench --days 30 --samples 50   # small

Runs on the embedded PostgreSQL/Redis in a temporary directory (or DATABASE_URL/REDIS_URL:
use scratch servers). The reference is a bare SELECT 1 round trip from this process."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bench._common import bench_core, describe, select_one_latencies
from bench.web_seed import seed_history
from core.analytics import rollup
from core.analytics import service as analytics
from core.chat.messages import Sender
from core.identity.models import User
from core.identity.service import user_for_sender
from teddy.runtime import Runtime

QUICK_ARGS = ["--days", "365", "--samples", "100"]


async def timed(
    core: Runtime,
    user_id: int,
    samples: int,
    work: Callable[[AsyncSession, User], Awaitable[object]],
) -> list[float]:
    """Seconds of `work` alone, each in its own transaction (rolled back: no growth)."""
    found = []
    for _ in range(samples + 10):
        async with core.db.engine.connect() as conn:
            transaction = await conn.begin()
            session = AsyncSession(bind=conn, expire_on_commit=False)
            user = await session.get(User, user_id)
            assert user is not None
            start = time.perf_counter()
            await work(session, user)
            found.append(time.perf_counter() - start)
            await session.close()
            await transaction.rollback()
    return found[10:]


async def main(days: int, samples: int) -> None:
    async with bench_core() as core:
        now = datetime.now(UTC)
        async with core.db.transaction() as session:
            user = await user_for_sender(session, Sender("bench", "year-user", "Year"), now)
            counts = await seed_history(session, user, days=days, now=now)
            user_id = user.id
        print(f"seeded {days} days: {counts}")
        print(describe("reference: SELECT 1", await select_one_latencies(core, 500)))
        for period in ("week", "all"):

            async def stats(session: AsyncSession, user: User, period: str = period) -> object:
                return await analytics.user_stats(session, user, period, now)

            print(describe(f"user_stats({period})", await timed(core, user_id, samples, stats)))

        async def record(session: AsyncSession, user: User) -> None:
            await rollup.record(session, user.id, now, cards_reviewed=1, cards_kept=1)

        print(describe("rollup.record (one review)", await timed(core, user_id, samples, record)))

        async def rebuild(session: AsyncSession, user: User) -> None:
            await rollup.rebuild(session, user.id)

        print(
            describe(f"rollup.rebuild ({days} days)", await timed(core, user_id, samples, rebuild))
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365, help="days of history to seed")
    parser.add_argument("--samples", type=int, default=200, help="timed calls of each")
    args = parser.parse_args()
    asyncio.run(main(args.days, args.samples))
