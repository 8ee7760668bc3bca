"""Flashcard latency on the embedded PostgreSQL: next-card selection and grading for one
user with 50,000 cards, and /decks due counts for a user with 10,000 decks, next to a bare
SELECT 1 round trip.

    python -m bench.flashcards_bench            # full size (about a minute)
    python -m bench.flashcards_bench --small    # a tenth of the size
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fsrs import Rating
from sqlalchemy import text

from core.clock import FixedClock
from core.flashcards import service
from core.identity.models import User
from core.settings import Settings
from teddy.runtime import Runtime, open_runtime

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


async def timed(runs: int, step: Callable[[int], Awaitable[None]]) -> tuple[float, float]:
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        await step(i)
        samples.append(time.perf_counter() - start)
    return percentiles(samples)


async def make_user(core: Runtime, name: str) -> User:
    async with core.db.transaction() as session:
        user = User(display_name=name, timezone="UTC")
        session.add(user)
        await session.flush()
        return user


async def seed_big_deck(core: Runtime, user: User, cards: int) -> int:
    """One deck of `cards` basic cards: a fifth unseen, the rest seen with due dates spread
    over two months around now (about a third of them due)."""
    async with core.db.transaction() as session:
        deck, _ = await service.use_deck(session, user, "Big")
        await session.execute(
            text(
                "INSERT INTO flashcard_notes (deck_id, kind, front, back, tags, content_hash) "
                "SELECT :deck, 'basic', 'question ' || i, 'answer ' || i, '', md5(i::text) "
                "FROM generate_series(1, :n) AS i"
            ),
            {"deck": deck.id, "n": cards},
        )
        await session.execute(
            text(
                "INSERT INTO flashcard_cards (note_id, deck_id, ordinal) "
                "SELECT id, deck_id, 0 FROM flashcard_notes WHERE deck_id = :deck"
            ),
            {"deck": deck.id},
        )
        await session.execute(
            text(
                "INSERT INTO flashcard_states (user_id, card_id, deck_id, state, step, "
                "stability, difficulty, due, last_review, reps, lapses) "
                "SELECT :user, id, deck_id, "
                "  CASE WHEN id % 5 = 0 THEN 1 ELSE 2 END, CASE WHEN id % 5 = 0 THEN 0 END, "
                "  CASE WHEN id % 5 = 0 THEN NULL ELSE 10.0 END, "
                "  CASE WHEN id % 5 = 0 THEN NULL ELSE 5.0 END, "
                "  CAST(:now AS timestamptz) "
                "    + make_interval(mins => ((id * 7919) % 86400)::int - 28800), "
                "  CASE WHEN id % 5 = 0 THEN NULL "
                "    ELSE CAST(:now AS timestamptz) - interval '10 days' END, "
                "  CASE WHEN id % 5 = 0 THEN 0 ELSE 3 END, 0 "
                "FROM flashcard_cards WHERE deck_id = :deck"
            ),
            {"user": user.id, "deck": deck.id, "now": NOW},
        )
        return deck.id


async def seed_many_decks(core: Runtime, user: User, decks: int, per_deck: int) -> None:
    async with core.db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO flashcard_decks (owner_id, name, name_key) "
                "SELECT :user, 'Deck ' || i, 'deck ' || i FROM generate_series(1, :n) AS i"
            ),
            {"user": user.id, "n": decks},
        )
        await session.execute(
            text(
                "INSERT INTO flashcard_notes (deck_id, kind, front, back, tags, content_hash) "
                "SELECT d.id, 'basic', 'q' || i, 'a' || i, '', md5(d.id || ':' || i) "
                "FROM flashcard_decks d, generate_series(1, :k) AS i WHERE d.owner_id = :user"
            ),
            {"user": user.id, "k": per_deck},
        )
        await session.execute(
            text(
                "INSERT INTO flashcard_cards (note_id, deck_id, ordinal) "
                "SELECT n.id, n.deck_id, 0 FROM flashcard_notes n "
                "JOIN flashcard_decks d ON d.id = n.deck_id WHERE d.owner_id = :user"
            ),
            {"user": user.id},
        )
        await session.execute(
            text(
                "INSERT INTO flashcard_states (user_id, card_id, deck_id, state, step, "
                "stability, difficulty, due, last_review, reps, lapses) "
                "SELECT :user, c.id, c.deck_id, 2, NULL, 10.0, 5.0, "
                "  CAST(:now AS timestamptz) + make_interval(hours => (c.id % 96)::int - 48), "
                "  CAST(:now AS timestamptz) - interval '5 days', 3, 0 "
                "FROM flashcard_cards c JOIN flashcard_decks d ON d.id = c.deck_id "
                "WHERE d.owner_id = :user"
            ),
            {"user": user.id, "now": NOW},
        )
        await session.execute(text("ANALYZE"))


async def run(small: bool, runs: int) -> None:
    cards, decks, per_deck = (5_000, 1_000, 5) if small else (50_000, 10_000, 5)
    home = Path(tempfile.mkdtemp(prefix="teddy-bench-"))
    settings = Settings(teddy_home=home, secret_key="bench", _env_file=None)
    clock = FixedClock(NOW)
    async with open_runtime(settings, clock=clock) as core:
        student = await make_user(core, "student")
        started = time.perf_counter()
        await seed_big_deck(core, student, cards)
        hoarder = await make_user(core, "hoarder")
        await seed_many_decks(core, hoarder, decks, per_deck)
        seeded = time.perf_counter() - started

        async def select_one(_: int) -> None:
            async with core.db.transaction() as session:
                await session.execute(text("SELECT 1"))

        async with core.db.transaction() as session:
            reading = await service.start_round(session, student, None, clock.now())

        async def next_card(_: int) -> None:
            async with core.db.transaction() as session:
                run = await service.get_round(session, student, reading.id)
                assert await service.next_card(session, student, run, clock.now()) is not None

        ratings = [Rating.Again, Rating.Hard, Rating.Good, Rating.Easy]

        async def next_and_grade(i: int) -> None:
            clock.advance(timedelta(seconds=5))
            async with core.db.transaction() as session:
                run = await service.start_round(session, student, None, clock.now())
                card = await service.next_card(session, student, run, clock.now())
                assert card is not None
                await service.grade(
                    session,
                    student,
                    run,
                    card.card_id,
                    random.choice(ratings),
                    clock.now() - timedelta(seconds=3),
                    clock.now(),
                )

        async def due_counts(_: int) -> None:
            async with core.db.transaction() as session:
                listed = await service.list_decks(session, hoarder, clock.now())
                assert len(listed) == decks

        async def sweep(_: int) -> None:
            async with core.db.transaction() as session:
                await service.due_counts_by_user(session, clock.now())

        await timed(20, select_one)  # warm the pool
        rows = [
            ("SELECT 1 round trip (reference)", await timed(runs, select_one)),
            (f"next card, user with {cards:,} cards", await timed(runs, next_card)),
            ("session + next card + grade + log, committed", await timed(runs, next_and_grade)),
            (f"/decks due counts, {decks:,} decks", await timed(max(runs // 20, 5), due_counts)),
            ("sweep: due counts of every user", await timed(max(runs // 20, 5), sweep)),
        ]
    print(f"seeded in {seeded:.1f}s; {runs} runs per line (fewer for the heavy ones)")
    print(f"{'':45} {'p50 ms':>9} {'p99 ms':>9}")
    for label, (p50, p99) in rows:
        print(f"{label:45} {p50:9.2f} {p99:9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true", help="a tenth of the issue's sizes")
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(run(args.small, args.runs))


if __name__ == "__main__":
    main()
