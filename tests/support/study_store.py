"""What the fixes of issue 20 stored, read straight from the database: the e2e tests check
the stored effect of a chat command next to what the student was shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fsrs.scheduler import DEFAULT_PARAMETERS
from sqlalchemy import func, select

from core.flashcards import service as flashcards
from core.flashcards.models import CardState, Deck, FlashCard, GradeUndo, Note, ReviewLog
from core.identity.models import User
from core.rooms.models import StudySession
from core.tasks.models import Reminder, Task
from teddy.runtime import Runtime

FSRS_FIELDS = ("state", "step", "stability", "difficulty", "due", "last_review", "reps", "lapses")


async def notes(core: Runtime) -> list[tuple[str, str, str]]:
    """Every note as (deck name, front, back), oldest first."""
    async with core.db.transaction() as session:
        rows = await session.execute(
            select(Deck.name, Note.front, Note.back)
            .join(Deck, Deck.id == Note.deck_id)
            .order_by(Note.id)
        )
        return [(deck, front, back) for deck, front, back in rows]


async def deck_names(core: Runtime) -> list[str]:
    async with core.db.transaction() as session:
        return list(await session.scalars(select(Deck.name).order_by(Deck.name)))


async def suspended_notes(core: Runtime) -> list[int]:
    """The numbers of the notes with a suspended card in someone's schedule."""
    async with core.db.transaction() as session:
        rows = await session.scalars(
            select(FlashCard.note_id)
            .join(CardState, CardState.card_id == FlashCard.id)
            .where(CardState.suspended.is_(True))
            .distinct()
        )
        return sorted(rows)


async def fsrs_states(core: Runtime) -> dict[int, dict[str, Any]]:
    """Each card's FSRS state, by card id."""
    async with core.db.transaction() as session:
        states = await session.scalars(select(CardState))
        return {s.card_id: {f: getattr(s, f) for f in FSRS_FIELDS} for s in states}


async def review_count(core: Runtime) -> int:
    async with core.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(ReviewLog)) or 0)


async def grade_undo_count(core: Runtime) -> int:
    async with core.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(GradeUndo)) or 0)


async def study_logs(core: Runtime) -> list[tuple[str, str | None, int]]:
    """Every study session as (source, subject, minutes)."""
    async with core.db.transaction() as session:
        rows = await session.execute(
            select(StudySession.source, StudySession.subject, StudySession.minutes).order_by(
                StudySession.id
            )
        )
        return [(source, subject, minutes) for source, subject, minutes in rows]


async def reminders(core: Runtime) -> list[tuple[str, datetime, datetime | None]]:
    """Every /remind as (text, remind_at, sent_at), in the order they were made."""
    async with core.db.transaction() as session:
        rows = await session.execute(
            select(Reminder.text, Reminder.remind_at, Reminder.sent_at)
            .where(Reminder.task_id.is_(None))
            .order_by(Reminder.id)
        )
        return [(text, at, sent) for text, at, sent in rows]


async def task_titles(core: Runtime) -> list[tuple[int, str]]:
    async with core.db.transaction() as session:
        rows = await session.execute(select(Task.number, Task.title).order_by(Task.number))
        return [(number, title) for number, title in rows]


async def record_fit(core: Runtime, reviews: int, at: datetime) -> None:
    """What the worker's optimize job writes when a fit predicted the held-out reviews
    better (the job itself runs in tests/integration/test_flashcards_fitting.py)."""
    async with core.db.transaction() as session:
        [user_id] = await session.scalars(select(User.id))
        # A student who remembers new cards twice as long as the defaults assume.
        parameters = [float(w) * (2 if i < 4 else 1) for i, w in enumerate(DEFAULT_PARAMETERS)]
        await flashcards.record_fit(session, user_id, parameters, reviews, at)
