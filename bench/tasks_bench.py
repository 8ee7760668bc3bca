"""Benchmark of tasks: `/tasks` for a user with 5,000 tasks, and the reminder sweep.

    python -m bench.tasks_bench            # 10,000 users / 100,000 tasks (about a minute)
    python -m bench.tasks_bench --full     # 100,000 users / 1,000,000 tasks

Runs on the embedded PostgreSQL in a temporary directory (or DATABASE_URL, which it
fills with data: use a scratch database). Prints latencies next to a bare SELECT 1 and the
EXPLAIN plan of the sweep query."""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench._common import bench_core, describe, select_one_latencies
from core.chat.messages import Conversation, Incoming, Sender
from core.clock import FixedClock
from core.tasks import reminders, service
from teddy.runtime import Runtime

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
HEAVY_TASKS = 5_000
SPREAD_DAYS = 30
ZONES = ["Asia/Tokyo", "America/Los_Angeles", "Europe/Berlin", "UTC"]


async def timed(run: Callable[[], Awaitable[object]], rounds: int) -> list[float]:
    """Seconds per call."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await run()
        times.append(time.perf_counter() - start)
    return times


def summary(name: str, seconds: list[float]) -> str:
    return "  " + describe(name, seconds)


async def execute(core: Runtime, sql: str, **params: object) -> None:
    async with core.db.transaction() as session:
        await session.execute(text(sql), params)


async def bench_list(core: Runtime, rounds: int) -> None:
    print(f"/tasks for one user with {HEAVY_TASKS:,} tasks ({rounds} rounds each)")
    sender = Sender("bench", "heavy", "Heavy")
    chat = Conversation("bench", "dm-heavy", True)
    await core.dispatcher.handle(Incoming(sender, chat, text="/settings tz Asia/Tokyo"))
    await execute(
        core,
        """
        INSERT INTO tasks (user_id, number, title, notes, subject, priority, due_at,
                           completed_at, created_by_user_id)
        SELECT u.id, g, 'Task ' || g, '', (ARRAY['chem','math','bio'])[1 + g % 3], 1 + g % 3,
               CASE WHEN g % 10 = 0 THEN NULL
                    ELSE CAST(:now AS timestamptz) + (g % 900) * interval '1 hour' END,
               CASE WHEN g % 4 = 0 THEN CAST(:now AS timestamptz) END, u.id
        FROM users u, generate_series(1, :n) g WHERE u.display_name = 'Heavy'
        """,
        now=NOW,
        n=HEAVY_TASKS,
    )
    await execute(core, "ANALYZE tasks")
    async with core.db.transaction() as session:
        user_id = await session.scalar(text("SELECT id FROM users WHERE display_name = 'Heavy'"))
    assert user_id is not None

    async def list_only(view: str) -> None:
        async with core.db.transaction() as session:
            await service.list_tasks(
                session, user_id, view, now=NOW, zone=ZoneInfo("Asia/Tokyo"), limit=15
            )

    async def chat_tasks(arg: str) -> None:
        await core.dispatcher.handle(Incoming(sender, chat, text=f"/tasks {arg}".strip()))

    print(summary("bare SELECT 1 (reference)", await select_one_latencies(core, rounds)))
    for view in ("open", "today", "done"):
        print(summary(f"service.list_tasks {view}", await timed(partial(list_only, view), rounds)))
    print("  EXPLAIN of the open-task page:")
    print(await explain(core, LIST_SQL, user_id=user_id))
    for arg in ("", "week", "#chem"):
        label = f"chat /tasks {arg}".strip() + " (whole dispatch)"
        print(summary(label, await timed(partial(chat_tasks, arg), rounds)))


async def seed_sweep(core: Runtime, users: int, tasks: int) -> None:
    start = time.perf_counter()
    await execute(
        core,
        """
        INSERT INTO users (display_name, timezone, locale, quiet_start, quiet_end, digest_time)
        SELECT 'sweep' || g, (ARRAY['Asia/Tokyo','America/Los_Angeles','Europe/Berlin','UTC'])
               [1 + g % 4], 'en', NULL, NULL,
               CASE WHEN g % 2 = 0 THEN make_time(g % 24, 0, 0) END
        FROM generate_series(1, :n) g
        """,
        n=users,
    )
    await execute(
        core,
        """
        INSERT INTO identities (user_id, platform, external_id, display_name, dm_chat_id,
                                last_seen_at, unreachable)
        SELECT id, 'bench', 'sweep' || id, '', 'dm' || id, now(), false
        FROM users WHERE display_name LIKE 'sweep%'
        """,
    )
    per_user = tasks // users
    await execute(
        core,
        """
        INSERT INTO tasks (user_id, number, title, notes, priority, due_at, next_remind_at,
                           next_remind_offset, created_by_user_id)
        SELECT u.id, g, 'Sweep task ' || g, '', 2, d.due, d.due - interval '1 hour', 60, u.id
        FROM users u
        CROSS JOIN generate_series(1, :per_user) g
        CROSS JOIN LATERAL (
            SELECT CAST(:now AS timestamptz)
                   + ((u.id * 7919 + g * 104729) % (:days * 1440)) * interval '1 minute'
                   + interval '2 hours' AS due
        ) d
        WHERE u.display_name LIKE 'sweep%'
        """,
        per_user=per_user,
        now=NOW,
        days=SPREAD_DAYS,
    )
    await execute(core, "ANALYZE")
    took = time.perf_counter() - start
    print(f"  seeded {users:,} users / {users * per_user:,} tasks in {took:.1f} s")


LIST_SQL = """
SELECT * FROM tasks WHERE user_id = :user_id AND completed_at IS NULL
ORDER BY due_at ASC NULLS LAST, priority, number LIMIT 15
"""

SWEEP_SQL = """
SELECT * FROM tasks WHERE next_remind_at <= :now
ORDER BY next_remind_at LIMIT 500 FOR UPDATE SKIP LOCKED
"""


async def explain(core: Runtime, sql: str, **params: object) -> str:
    async with core.db.transaction() as session:
        rows = await session.execute(text("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql), params)
        return "\n".join("    " + r[0] for r in rows)


async def bench_sweep(core: Runtime, users: int, tasks: int) -> None:
    print(f"\nReminder sweep over {users:,} users / {tasks:,} tasks")
    await seed_sweep(core, users, tasks)
    at = NOW + timedelta(hours=2) + timedelta(days=SPREAD_DAYS) * 0.01  # ~1 % come due
    async with core.db.transaction() as session:
        due = await session.scalar(
            text("SELECT count(*) FROM tasks WHERE next_remind_at <= :at"), {"at": at}
        )
    print("  EXPLAIN of the sweep's batch query:")
    print(await explain(core, SWEEP_SQL, now=at))
    start = time.perf_counter()
    sent = await reminders.sweep_task_reminders(core.db, at, [60, 0])
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = await reminders.sweep_task_reminders(core.db, at, [60, 0])
    second = time.perf_counter() - start
    print(
        f"  sweep with {due:,} reminders due: {first:.2f} s, queued {sent:,} "
        f"({first / max(sent, 1) * 1000:.2f} ms per reminder)"
    )
    print(
        f"  same sweep again (nothing due, index probe only): {second * 1000:.1f} ms, "
        f"queued {again}"
    )
    start = time.perf_counter()
    digests = await reminders.sweep_digests(core.db, at)
    took = time.perf_counter() - start
    print(
        f"  digest sweep over {users:,} users (2-hour backlog): {took:.2f} s, "
        f"queued {digests:,} (users with tasks due that day)"
    )
    start = time.perf_counter()
    await reminders.sweep_digests(core.db, at)
    print(f"  digest sweep again (nothing due): {(time.perf_counter() - start) * 1000:.1f} ms")
    print("  EXPLAIN of the digest query (local times cannot be indexed: one scan of users):")
    params = {"now": at, "window": reminders.DIGEST_WINDOW, "batch": reminders.BATCH}
    print(await explain(core, reminders.digest_due_sql(), **params))


async def main(full: bool, rounds: int) -> None:
    users, tasks = (100_000, 1_000_000) if full else (10_000, 100_000)
    logging.disable(logging.WARNING)
    async with bench_core() as core:
        core.services.clock = FixedClock(NOW)
        await bench_list(core, rounds)
        await bench_sweep(core, users, tasks)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="100,000 users / 1,000,000 tasks")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.full, args.rounds))
