"""Focus-session timers at scale: N rooms, each with a running group focus session of M
members, advanced by the `rooms.sweep_focus` job against the real (embedded) PostgreSQL
and Redis.

    python -m bench.rooms_bench                    # 1,000 rooms x 10 members (the issue's size)
    python -m bench.rooms_bench --rooms 200 --window 10

Prints:
- burst capacity: every session's phase ends at once (each change logs M study sessions,
  writes an outbox row and publishes a Redis event) and every countdown ticks at once;
- steady state: phase ends spread over a window, the sweep run every --interval seconds
  (15 s is the beat schedule) and every 1 s; the delay from a phase's scheduled end to the
  commit of its live-message update (measured when the sweep returns, so an upper bound);
- references: a bare SELECT 1 round trip and a bare Redis PUBLISH.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from core.clock import SystemClock
from core.jobs import JobContext
from core.rooms.jobs import sweep_focus_once
from core.rooms.pubsub import RedisRoomEvents
from core.settings import Settings
from teddy.runtime import Runtime, open_runtime

TABLES = "study_sessions, focus_participants, focus_sessions, outbox, memberships, users, rooms"


async def populate(core: Runtime, rooms: int, members: int) -> None:
    now = datetime.now(UTC)
    async with core.db.transaction() as s:
        await s.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        await s.execute(
            text(
                "INSERT INTO rooms (id, platform, external_id, title, timezone) "
                "SELECT g, 'bench', 'room-' || g, 'room ' || g, 'UTC' FROM generate_series(1, :n) g"
            ),
            {"n": rooms},
        )
        await s.execute(
            text(
                "INSERT INTO users (id, display_name, timezone, locale) "
                "SELECT g, 'user ' || g, 'UTC', 'en' FROM generate_series(1, :n) g"
            ),
            {"n": rooms * members},
        )
        await s.execute(
            text(
                "INSERT INTO memberships (room_id, user_id, role) "
                "SELECT (g - 1) / :m + 1, g, 'member' FROM generate_series(1, :n) g"
            ),
            {"n": rooms * members, "m": members},
        )
        await s.execute(
            text(
                "INSERT INTO focus_sessions (id, room_id, started_by, focus_minutes, "
                "break_minutes, phase, phase_no, started_at, phase_ends_at, stopped, "
                "next_update_at) SELECT g, g, (g - 1) * :m + 1, 25, 5, 'focus', 1, "
                "CAST(:t AS timestamptz), "
                "CAST(:t AS timestamptz) + interval '25 minutes', false, "
                "CAST(:t AS timestamptz) + interval '25 minutes' "
                "FROM generate_series(1, :n) g"
            ),
            {"n": rooms, "m": members, "t": now},
        )
        await s.execute(
            text(
                "INSERT INTO focus_participants (focus_session_id, user_id, first_joined_at, "
                "joined_at, focus_seconds) SELECT (g - 1) / :m + 1, g, CAST(:t AS timestamptz), "
                "CAST(:t AS timestamptz), 0 "
                "FROM generate_series(1, :n) g"
            ),
            {"n": rooms * members, "m": members, "t": now},
        )
        await s.execute(text("ANALYZE"))


async def reset_sessions(core: Runtime, ends: list[datetime]) -> None:
    """Every session back in its focus phase (started 25 minutes before its end)."""
    async with core.db.transaction() as s:
        await s.execute(text("TRUNCATE study_sessions, outbox"))
        await s.execute(
            text(
                "UPDATE focus_sessions f SET phase = 'focus', phase_no = 1, ended_at = NULL, "
                "phase_ends_at = e.end_at, next_update_at = e.end_at, "
                "started_at = e.end_at - interval '25 minutes' "
                "FROM unnest(CAST(:ids AS bigint[]), CAST(:ends AS timestamptz[])) "
                "AS e(id, end_at) "
                "WHERE f.id = e.id"
            ),
            {"ids": list(range(1, len(ends) + 1)), "ends": ends},
        )
        await s.execute(
            text(
                "UPDATE focus_participants p SET focus_seconds = 0, last_left_at = NULL, "
                "joined_at = f.started_at, first_joined_at = f.started_at "
                "FROM focus_sessions f WHERE f.id = p.focus_session_id"
            )
        )


async def count(core: Runtime, sql: str) -> int:
    async with core.db.transaction() as s:
        return int((await s.execute(text(sql))).scalar_one())


async def burst(core: Runtime, jc: JobContext, rooms: int) -> None:
    now = datetime.now(UTC)
    await reset_sessions(core, [now - timedelta(seconds=1)] * rooms)
    started = time.perf_counter()
    advanced = await sweep_focus_once(jc)
    took = time.perf_counter() - started
    phases = sum(1 for a in advanced if a.phase_changed)
    logged = await count(core, "SELECT count(*) FROM study_sessions")
    print(
        f"burst, all phases end at once: {phases} phase changes ({logged} study sessions "
        f"logged) in {took:.2f} s = {phases / took:,.0f} phase changes/s, "
        f"{logged / took:,.0f} member-minutes rows/s"
    )
    async with core.db.transaction() as s:
        await s.execute(text("UPDATE focus_sessions SET next_update_at = now() - interval '1 s'"))
    started = time.perf_counter()
    advanced = await sweep_focus_once(jc)
    took = time.perf_counter() - started
    print(
        f"burst, every countdown ticks at once: {len(advanced)} live-message updates in "
        f"{took:.2f} s = {len(advanced) / took:,.0f} updates/s"
    )


async def steady(core: Runtime, jc: JobContext, rooms: int, window: float, interval: float) -> None:
    start = datetime.now(UTC) + timedelta(seconds=1)
    ends = [start + timedelta(seconds=random.uniform(0, window)) for _ in range(rooms)]
    await reset_sessions(core, ends)
    delays: list[float] = []
    updates = 0
    sweeps = 0
    sweep_seconds = 0.0
    finish = start + timedelta(seconds=window + interval + 1)
    while datetime.now(UTC) < finish:
        tick = time.perf_counter()
        advanced = await sweep_focus_once(jc)
        sweep_seconds += time.perf_counter() - tick
        sweeps += 1
        committed = datetime.now(UTC)
        updates += len(advanced)
        delays += [(committed - a.due_at).total_seconds() for a in advanced if a.phase_changed]
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - tick)))
    missing = rooms - len(delays)
    cuts = statistics.quantiles(delays, n=100) if len(delays) > 1 else [0.0] * 99
    print(
        f"steady, sweep every {interval:g} s, {rooms} phase ends over {window:g} s: "
        f"{sweeps} sweeps (mean {sweep_seconds / sweeps * 1000:.0f} ms), {updates} updates; "
        f"delay scheduled end -> update p50 {cuts[49]:.2f} s, p99 {cuts[98]:.2f} s, "
        f"max {max(delays):.2f} s; missed {missing}"
    )


async def references(core: Runtime) -> None:
    rounds = 500
    async with core.db.engine.connect() as conn:
        started = time.perf_counter()
        for _ in range(rounds):
            await conn.execute(text("SELECT 1"))
        select_ms = (time.perf_counter() - started) / rounds * 1000
    events = core.services.room_events
    assert isinstance(events, RedisRoomEvents)
    started = time.perf_counter()
    for _ in range(rounds):
        await events.redis.publish("teddy:bench", "x")
    publish_ms = (time.perf_counter() - started) / rounds * 1000
    print(f"reference: SELECT 1 round trip {select_ms:.3f} ms, Redis PUBLISH {publish_ms:.3f} ms")


async def main(args: argparse.Namespace) -> None:
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="teddy-bench-"))
    settings = Settings(teddy_home=home, _env_file=None)
    async with open_runtime(settings, clock=SystemClock()) as core:
        jc = JobContext(core.db, core.services)
        events = core.services.room_events
        assert isinstance(events, RedisRoomEvents)
        listener = await events.subscribe()
        received = 0

        async def listen() -> None:
            nonlocal received
            async for _ in listener:
                received += 1

        counter = asyncio.create_task(listen())
        print(f"{args.rooms} rooms x {args.members} members, one focus session each")
        await populate(core, args.rooms, args.members)
        await references(core)
        await burst(core, jc, args.rooms)
        await steady(core, jc, args.rooms, args.window, args.interval)
        await steady(core, jc, args.rooms, args.window, 1.0)
        await asyncio.sleep(0.5)
        counter.cancel()
        await listener.close()
        print(f"Redis fan-out: a subscriber in another connection received {received} events")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--window", type=float, default=45.0, help="seconds of phase ends")
    parser.add_argument("--interval", type=float, default=15.0, help="sweep interval (beat)")
    parser.add_argument("--home", default=None, help="data directory (default: a temp dir)")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
