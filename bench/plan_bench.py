"""Benchmark of insights: `/plan` (and `/forecast`) for a student with 200 tasks, 5,000
cards and 3 exams, through the whole dispatch, next to a bare SELECT 1.

    python -m bench.plan_bench                          # 200 tasks, 5,000 cards
    python -m bench.plan_bench --tasks 20 --cards 500   # a small run

Runs on the embedded PostgreSQL in a temporary directory (or DATABASE_URL, which it
fills with data: use a scratch database)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import text

from bench._common import bench_core, describe, select_one_latencies
from core.chat.messages import Conversation, Incoming, Sender
from core.clock import FixedClock
from teddy.runtime import Runtime

QUICK_ARGS = ["--tasks", "20", "--cards", "500", "--rounds", "20"]
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
DECKS = ("Chemistry", "Physics", "Biology", "History", "Art")
SENDER = Sender("bench", "planner", "Planner")
CHAT = Conversation("bench", "dm-planner", True)


async def say(core: Runtime, line: str) -> str:
    replies = await core.dispatcher.handle(Incoming(SENDER, CHAT, text=line))
    return "\n".join(r.plain_text() for r in replies)


async def execute(core: Runtime, sql: str, **params: object) -> None:
    async with core.db.transaction() as session:
        await session.execute(text(sql), params)


async def seed(core: Runtime, tasks: int, cards: int) -> None:
    """Tasks due over the next 30 days, cards spread over the decks (a fifth never
    studied, the rest due from a week ago to two months ahead), three exams, hours."""
    start = time.perf_counter()
    await say(core, "/settings tz Europe/Berlin")
    await say(core, "/hours 2h weekdays, 5h weekends")
    for exam in ("Chemistry final dec 4", "Physics midterm dec 10", "Biology oral dec 18"):
        await say(core, f"/exam {exam}")
    await execute(
        core,
        """
        INSERT INTO tasks (user_id, number, title, notes, priority, due_at, created_by_user_id)
        SELECT u.id, g, 'Task ' || g, '', 1 + g % 3,
               CAST(:now AS timestamptz) + (g % 720) * interval '1 hour', u.id
        FROM users u, generate_series(1, :n) g WHERE u.display_name = 'Planner'
        """,
        now=NOW,
        n=tasks,
    )
    await execute(
        core,
        """
        INSERT INTO flashcard_decks (owner_id, name, name_key)
        SELECT u.id, d, lower(d) FROM users u, unnest(CAST(:decks AS text[])) d
        WHERE u.display_name = 'Planner'
        """,
        decks=list(DECKS),
    )
    await execute(
        core,
        """
        INSERT INTO flashcard_notes (deck_id, kind, front, back, tags, content_hash)
        SELECT d.id, 'basic', 'Q' || g, 'A' || g, '', md5(d.id || '-' || g)
        FROM flashcard_decks d, generate_series(1, :per_deck) g
        """,
        per_deck=cards // len(DECKS),
    )
    await execute(
        core,
        "INSERT INTO flashcard_cards (note_id, deck_id, ordinal)"
        " SELECT id, deck_id, 0 FROM flashcard_notes",
    )
    await execute(
        core,
        """
        INSERT INTO flashcard_states (user_id, card_id, deck_id, state, step, stability,
                                      difficulty, due, last_review, reps, lapses)
        SELECT d.owner_id, c.id, c.deck_id,
               CASE WHEN c.id % 5 = 0 THEN 1 ELSE 2 END,
               CASE WHEN c.id % 5 = 0 THEN 0 END,
               CASE WHEN c.id % 5 <> 0 THEN 1 + (c.id % 60) END,
               CASE WHEN c.id % 5 <> 0 THEN 5.0 END,
               CAST(:now AS timestamptz) + ((c.id * 7919) % 1680 - 168) * interval '1 hour',
               CASE WHEN c.id % 5 <> 0
                    THEN CAST(:now AS timestamptz) - (c.id % 30) * interval '1 day' END,
               CASE WHEN c.id % 5 <> 0 THEN 3 ELSE 0 END, 0
        FROM flashcard_cards c JOIN flashcard_decks d ON d.id = c.deck_id
        """,
        now=NOW,
    )
    await execute(core, "ANALYZE")
    print(
        f"  seeded {tasks:,} tasks, {cards:,} cards, 3 exams in {time.perf_counter() - start:.1f} s"
    )


async def timed(run: Callable[[], Awaitable[object]], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await run()
        samples.append(time.perf_counter() - start)
    return samples


async def main(tasks: int, cards: int, rounds: int) -> None:
    logging.disable(logging.WARNING)
    async with bench_core() as core:
        core.services.clock = FixedClock(NOW)
        print(f"/plan and /forecast: {tasks:,} tasks, {cards:,} cards, 3 exams ({rounds} rounds)")
        await seed(core, tasks, cards)
        plan = await say(core, "/plan")
        assert plan.startswith("Your plan for 7 days"), plan[:200]
        print("  " + describe("bare SELECT 1 (reference)", await select_one_latencies(core, 500)))
        for line in ("/plan", "/plan 30", "/forecast"):
            samples = await timed(lambda line=line: say(core, line), rounds)  # type: ignore[misc]
            print("  " + describe(f"chat {line} (whole dispatch)", samples))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--cards", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.tasks, args.cards, args.rounds))
