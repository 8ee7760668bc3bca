"""A believable study history for one user, written straight into the capability tables:
tasks added and done, focus minutes, and flashcard reviews, one day at a time (then the
stats rollup recomputed from them). Used by the
web benchmark (a year of history) and the browser test (a month, for the screenshot)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics import rollup
from core.flashcards import service as flashcards
from core.flashcards.notes import NoteDraft
from core.identity.models import User


async def seed_history(
    session: AsyncSession, user: User, *, days: int, now: datetime, seed: int = 7
) -> dict[str, int]:
    rng = random.Random(seed)
    deck, _ = await flashcards.use_deck(session, user, "Biology")
    await flashcards.add_notes(
        session, user, deck, [NoteDraft("basic", "cell", "unit of life")], now
    )
    card_id = await session.scalar(
        text("SELECT id FROM flashcard_cards WHERE deck_id = :d LIMIT 1"), {"d": deck.id}
    )
    tasks, minutes, reviews = [], [], []
    number = 10_000
    for back in range(days, 0, -1):
        day = now - timedelta(days=back, hours=rng.randint(0, 6))
        if rng.random() < 0.15:
            continue  # a day off
        for _ in range(rng.randint(0, 3)):
            number += 1
            done = day + timedelta(hours=rng.randint(1, 30)) if rng.random() < 0.75 else None
            due = day + timedelta(days=rng.randint(1, 5))
            tasks.append(
                {"u": user.id, "n": number, "t": f"Task {number}", "c": day, "d": done, "due": due}
            )
        minutes.append({"u": user.id, "s": day, "m": rng.choice([25, 25, 50, 75, 100])})
        for _ in range(rng.randint(5, 30)):
            reviews.append(
                {
                    "u": user.id,
                    "card": card_id,
                    "deck": deck.id,
                    "r": rng.choices([1, 2, 3, 4], [1, 2, 6, 2])[0],
                    "at": day + timedelta(minutes=rng.randint(0, 120)),
                }
            )
    await session.execute(
        text(
            "INSERT INTO tasks (user_id, number, title, notes, priority, created_at, updated_at,"
            " completed_at, due_at) VALUES (:u, :n, :t, '', 2, :c, :c, :d, :due)"
        ),
        tasks,
    )
    await session.execute(
        text(
            "INSERT INTO study_sessions (user_id, source, started_at, ended_at, minutes)"
            " VALUES (:u, 'focus', :s, :s, :m)"
        ),
        minutes,
    )
    await session.execute(
        text(
            "INSERT INTO flashcard_reviews (user_id, card_id, deck_id, rating, reviewed_at,"
            " state_before, due_after) VALUES (:u, :card, :deck, :r, :at, 2, :at)"
        ),
        reviews,
    )
    await session.execute(
        text(
            "INSERT INTO task_counters (owner, last_number) VALUES (:o, :n)"
            " ON CONFLICT (owner) DO UPDATE SET last_number = greatest("
            "task_counters.last_number, excluded.last_number)"
        ),
        {"o": f"u{user.id}", "n": number},
    )
    # Written around the services, so the stats rollup is recomputed from these rows.
    await rollup.rebuild(session, user.id)
    return {"tasks": len(tasks), "study_sessions": len(minutes), "reviews": len(reviews)}
