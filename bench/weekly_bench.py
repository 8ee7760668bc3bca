"""Benchmark of the weekly report job: N students in six zones, each with last week's
study sessions, reviews and tasks and next week's tasks and cards, then one run of the job
on Monday at 09:00 UTC (every zone east of UTC-1 is due) and a second run that must send
nothing. Prints the time, the rate, and EXPLAIN of its queries for one batch, and of the
badge sweep's query on the same students.

    python -m bench.weekly_bench                  # 100,000 students
    python -m bench.weekly_bench --users 5000     # a small run

Runs on the embedded PostgreSQL in a temporary directory (or DATABASE_URL, which it
fills with data: use a scratch database)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, literal_column, select, text

from bench._common import bench_core
from core.insights import badges, goals, weekly
from core.insights.goals import week_bounds
from teddy.runtime import Runtime

QUICK_ARGS = ["--users", "3000"]
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LAST_WEEK = MONDAY - timedelta(days=7)
ZONES = ("Europe/Berlin", "Asia/Tokyo", "UTC", "Europe/London", "Asia/Kolkata", "Australia/Sydney")
CARDS = 20


async def execute(core: Runtime, sql: str, **params: object) -> None:
    async with core.db.transaction() as session:
        await session.execute(text(sql), params)


async def seed(core: Runtime, users: int) -> None:
    start = time.perf_counter()
    await execute(
        core,
        """
        INSERT INTO users (display_name, timezone, locale)
        SELECT 'Student ' || g, (CAST(:zones AS text[]))[1 + g % 6], 'en'
        FROM generate_series(1, :n) g
        """,
        zones=list(ZONES),
        n=users,
    )
    await execute(
        core,
        """
        INSERT INTO identities (user_id, platform, external_id, display_name, dm_chat_id,
                                unreachable)
        SELECT id, 'bench', 'u' || id, display_name, 'dm' || id, false FROM users
        """,
    )
    await execute(
        core,
        """
        INSERT INTO study_sessions (user_id, source, subject, started_at, ended_at, minutes)
        SELECT u.id, 'manual', CASE WHEN k = 1 THEN 'chem' END,
               CAST(:week AS timestamptz) + (k * 2 + u.id % 3) * interval '1 day',
               CAST(:week AS timestamptz) + (k * 2 + u.id % 3) * interval '1 day', 30 * k
        FROM users u, generate_series(1, 2) k
        """,
        week=LAST_WEEK,
    )
    await execute(
        core,
        """
        INSERT INTO flashcard_decks (owner_id, name, name_key)
        SELECT id, 'Shared', 'shared' FROM users ORDER BY id LIMIT 1
        """,
    )
    await execute(
        core,
        """
        INSERT INTO flashcard_notes (deck_id, kind, front, back, tags, content_hash)
        SELECT d.id, 'basic', 'Q' || g, 'A' || g, '', md5('n' || g)
        FROM flashcard_decks d, generate_series(1, :cards) g
        """,
        cards=CARDS,
    )
    await execute(
        core,
        "INSERT INTO flashcard_cards (note_id, deck_id, ordinal)"
        " SELECT id, deck_id, 0 FROM flashcard_notes",
    )
    await execute(
        core,
        """
        INSERT INTO flashcard_states (user_id, card_id, deck_id, state, stability, difficulty,
                                      due, last_review, reps, lapses)
        SELECT u.id, c.id, c.deck_id, 2, 5, 5,
               CAST(:monday AS timestamptz) + (c.id % 10) * interval '1 day',
               CAST(:week AS timestamptz), 1, 0
        FROM users u CROSS JOIN flashcard_cards c
        """,
        monday=MONDAY,
        week=LAST_WEEK,
    )
    await execute(
        core,
        """
        INSERT INTO flashcard_reviews (user_id, card_id, deck_id, rating, reviewed_at,
                                       state_before, due_after)
        SELECT s.user_id, s.card_id, s.deck_id, 1 + (s.card_id % 4),
               CAST(:week AS timestamptz) + (s.card_id % 6) * interval '1 day', 2, s.due
        FROM flashcard_states s
        """,
        week=LAST_WEEK,
    )
    await execute(
        core,
        """
        INSERT INTO tasks (user_id, number, title, notes, priority, due_at, completed_at,
                           created_by_user_id)
        SELECT u.id, k, 'Task ' || k, '', 2,
               CAST(:week AS timestamptz) + (k * 3) * interval '1 day',
               CASE WHEN k = 1 THEN CAST(:week AS timestamptz) + interval '2 days' END, u.id
        FROM users u, generate_series(1, 3) k
        """,
        week=LAST_WEEK,
    )
    await execute(core, "ANALYZE")
    print(f"  seeded {users:,} students in {time.perf_counter() - start:.1f} s")


async def explain(core: Runtime) -> None:
    """EXPLAIN ANALYZE of the job's queries for one batch of students."""
    async with core.db.transaction() as session:
        rows = (
            await session.execute(
                text("SELECT id, timezone FROM users ORDER BY id LIMIT :b"), {"b": weekly.BATCH}
            )
        ).all()
        params: dict[str, Any] = {"ids": [], "since": [], "until": [], "next": []}
        for uid, zone in rows:
            start, end = week_bounds(date(2026, 11, 23), ZoneInfo(zone))
            _, after = week_bounds(date(2026, 11, 30), ZoneInfo(zone))
            for key, value in (("ids", uid), ("since", start), ("until", end), ("next", after)):
                params[key].append(value)
        queries: list[tuple[str, Any, dict[str, Any]]] = [
            (
                "due students",
                weekly._DUE,
                {"now": MONDAY, "after": 0, "hour": 8, "batch": weekly.BATCH},
            ),
            ("study by subject", weekly._STUDY, params),
            ("reviews", weekly._REVIEWS, params),
            ("tasks", weekly._TASKS, params),
            ("cards due next week", weekly._CARDS_DUE, params),
            ("exams next week", weekly._EXAMS, params),
        ]
        for name, query, values in queries:
            plan = await session.execute(text("EXPLAIN (ANALYZE, COSTS OFF) " + query.text), values)
            print(f"\n  EXPLAIN {name}:")
            for (line,) in plan:
                print("    " + line)


async def explain_badges(core: Runtime) -> None:
    """EXPLAIN ANALYZE of the badge sweep on the same students: who was active in the last
    two hours, then one student's totals (`check_user`'s counts since the start), with
    migration 0093's indexes and, in a transaction rolled back, without them."""
    async with core.db.transaction() as session:
        first = await session.scalar(text("SELECT min(id) FROM users"))
    active = badges._active_users(MONDAY - badges.LOOKBACK)
    queries: list[tuple[str, Select[Any]]] = [
        ("active students", select(literal_column("user_id")).select_from(active))
    ]
    totals = goals.measure_queries([first], badges.EPOCH, MONDAY)
    queries += list(zip(("one student's minutes", "reviews", "tasks"), totals, strict=True))
    literal = {"literal_binds": True}
    async with core.db.transaction() as session:
        for label in ("with the indexes", "without them (0092)"):
            for name, query in queries:
                sql = str(query.compile(dialect=core.db.engine.dialect, compile_kwargs=literal))
                plan = await session.execute(text("EXPLAIN (ANALYZE, COSTS OFF) " + sql))
                print(f"\n  EXPLAIN badge sweep, {name}, {label}:")
                for (line,) in plan:
                    print("    " + line)
            if label.startswith("with "):
                for index in badges.SWEEP_INDEXES:
                    await session.execute(text(f"DROP INDEX {index.name}"))
        await session.rollback()


async def main(users: int) -> None:
    logging.disable(logging.WARNING)
    async with bench_core() as core:
        print(f"weekly report job: {users:,} students in {len(ZONES)} zones")
        await seed(core, users)
        start = time.perf_counter()
        sent = await weekly.sweep(core.db, MONDAY)
        took = time.perf_counter() - start
        print(f"  first run: {sent:,} reports queued in {took:.1f} s ({sent / took:,.0f} a second)")
        start = time.perf_counter()
        again = await weekly.sweep(core.db, MONDAY + timedelta(minutes=15))
        print(f"  second run: {again} queued in {time.perf_counter() - start:.2f} s")
        later = await weekly.sweep(core.db, MONDAY + timedelta(hours=16))
        print(f"  16 h later: {later:,} more (every zone was due at 09:00 UTC)")
        await explain(core)
        await explain_badges(core)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(main(args.users))
