"""What the plan and the forecast read from other capabilities, read-only and scoped to
the acting user: open tasks (through the tasks service), the user's own FSRS card states
in the decks they can see (listed by the flashcards service) and their review settings."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from fsrs import Scheduler
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.documents.models import READY
from core.documents.service import visible_documents
from core.flashcards import scheduling
from core.flashcards.models import CardState, ReviewLog, StudyPrefs
from core.flashcards.service import list_decks
from core.identity.models import User
from core.insights.calibration import ReviewEvent
from core.insights.models import Exam
from core.insights.planner import CardLoad, DocumentIn, ExamIn, TaskIn
from core.insights.retention import CardMemory, Curve
from core.tasks.service import list_tasks

MAX_TASKS = 1000
# Replaying a review through fsrs costs ~0.15 ms: the calibration reads the whole
# histories of the most recently reviewed cards, up to about this many reviews.
CALIBRATION_CARDS = 1000
CALIBRATION_REVIEWS = 6000


async def open_tasks(
    session: AsyncSession, user: User, now: datetime, zone: ZoneInfo
) -> list[TaskIn]:
    """The user's own open tasks that have a due date (room tasks are the room's plan)."""
    page = await list_tasks(session, user.id, "open", now=now, zone=zone, limit=MAX_TASKS)
    return [
        TaskIn(t.number, t.title, t.due_at, t.priority) for t in page.tasks if t.due_at is not None
    ]


async def _deck_names(session: AsyncSession, user: User, now: datetime) -> dict[int, str]:
    return {d.id: d.name for d in await list_decks(session, user, now)}


async def card_loads(
    session: AsyncSession, user: User, now: datetime, zone: ZoneInfo
) -> list[CardLoad]:
    """The user's cards per deck and local due day (None: never studied), counted in
    PostgreSQL so that 5,000 cards are a few dozen rows."""
    names = await _deck_names(session, user, now)
    if not names:
        return []
    day = func.date(func.timezone(zone.key, CardState.due)).label("day")
    seen = CardState.last_review.is_not(None).label("seen")
    rows = await session.execute(
        select(CardState.deck_id, seen, day, func.count())
        .where(
            CardState.user_id == user.id,
            CardState.deck_id.in_(names),
            CardState.suspended.is_(False),  # set aside by the student: never scheduled
        )
        .group_by(CardState.deck_id, seen, day)
    )
    loads: dict[tuple[str, date | None], int] = {}
    for deck_id, was_seen, due_day, count in rows:
        key = (names[deck_id], due_day if was_seen else None)
        loads[key] = loads.get(key, 0) + count
    return [CardLoad(deck, due_day, count) for (deck, due_day), count in loads.items()]


async def card_memories(session: AsyncSession, user: User, now: datetime) -> list[CardMemory]:
    names = await _deck_names(session, user, now)
    if not names:
        return []
    rows = await session.execute(
        select(CardState.deck_id, CardState.stability, CardState.last_review).where(
            CardState.user_id == user.id,
            CardState.deck_id.in_(names),
            CardState.suspended.is_(False),
        )
    )
    return [CardMemory(names[deck_id], s, last) for deck_id, s, last in rows]


async def review_scheduler(session: AsyncSession, user: User) -> Scheduler:
    """The user's fsrs scheduler (their optimised parameters, else fsrs's). Read only: no
    preferences row is created."""
    return scheduling.scheduler_for(await session.get(StudyPrefs, user.id))


async def review_settings(session: AsyncSession, user: User) -> tuple[Curve, float]:
    """The user's forgetting curve and desired retention."""
    scheduler = await review_scheduler(session, user)
    return Curve.from_parameters(scheduler.parameters), scheduler.desired_retention


async def review_events(session: AsyncSession, user: User) -> list[ReviewEvent]:
    """The user's own review logs of their most recently reviewed cards, whole histories
    (a card replayed from its middle would start from a wrong memory state)."""
    recent = (
        select(ReviewLog.card_id)
        .where(ReviewLog.user_id == user.id)
        .group_by(ReviewLog.card_id)
        .order_by(func.max(ReviewLog.reviewed_at).desc())
        .limit(CALIBRATION_CARDS)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(ReviewLog.card_id, ReviewLog.rating, ReviewLog.reviewed_at)
        .where(ReviewLog.user_id == user.id, ReviewLog.card_id.in_(recent))
        .order_by(ReviewLog.card_id, ReviewLog.reviewed_at)
    )
    events = [ReviewEvent(card, rating, at) for card, rating, at in rows]
    if len(events) <= CALIBRATION_REVIEWS:
        return events
    cut = events[CALIBRATION_REVIEWS - 1].card_id  # whole cards only
    return [e for e in events if e.card_id <= cut]


async def review_mark(session: AsyncSession, user: User) -> tuple[int, int]:
    """The user's newest review id and their number of reviews. Ids only grow and logs
    are only added or deleted (with their card), so the pair changes whenever the
    review history does."""
    newest, count = (
        await session.execute(
            select(func.max(ReviewLog.id), func.count()).where(ReviewLog.user_id == user.id)
        )
    ).one()
    return int(newest or 0), int(count)


def exam_inputs(exams: list[Exam]) -> list[ExamIn]:
    return [ExamIn(e.title, e.starts_at, e.subject) for e in exams]


async def own_documents(session: AsyncSession, user: User) -> list[DocumentIn]:
    """The user's own read documents, numbered as /docs numbers them in a direct chat."""
    listed = await visible_documents(session, user, None)
    return [
        DocumentIn(number, d.title, tuple(d.key_concepts or ()))
        for number, d in enumerate(listed, 1)
        if d.status == READY
    ]
