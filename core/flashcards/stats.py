"""What the dashboard shows about a deck: the user's cards with their schedule,
retention, reviews per day and the due forecast. Always the acting user's own numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fsrs import Rating, State
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.flashcards.models import CardState, FlashCard, Note, ReviewLog
from core.flashcards.notes import card_sides
from core.flashcards.service import deck_summary, get_deck
from core.identity.models import User
from core.identity.service import user_zone


@dataclass(frozen=True)
class DeckStats:
    deck_id: int
    name: str
    cards: int
    due_now: int
    new: int
    reviews: int
    # Share of reviews of cards in the Review state that were not "Again" (true retention).
    retention: float | None
    reviews_per_day: list[tuple[date, int]]
    due_forecast: list[tuple[date, int]]


async def deck_stats(
    session: AsyncSession, user: User, deck_id: int, now: datetime, *, days: int = 30
) -> DeckStats:
    """The user's own statistics for one deck they can see: retention and reviews per day
    over the last `days` days, and the cards falling due on each of the next 14 days (in
    the user's time zone; overdue cards count on today)."""
    deck = await get_deck(session, user, deck_id)
    summary = await deck_summary(session, user, deck, now)
    zone = user_zone(user)
    since = now - timedelta(days=days)
    local_day = func.date(func.timezone(zone.key, ReviewLog.reviewed_at))
    per_day = await session.execute(
        select(local_day, func.count())
        .where(
            ReviewLog.user_id == user.id,
            ReviewLog.deck_id == deck.id,
            ReviewLog.reviewed_at >= since,
        )
        .group_by(local_day)
        .order_by(local_day)
    )
    mature = await session.execute(
        select(func.count(), func.count().filter(ReviewLog.rating > int(Rating.Again))).where(
            ReviewLog.user_id == user.id,
            ReviewLog.deck_id == deck.id,
            ReviewLog.reviewed_at >= since,
            ReviewLog.state_before == int(State.Review),
        )
    )
    total_mature, recalled = mature.one()
    reviews = await session.scalar(
        select(func.count()).where(
            ReviewLog.user_id == user.id,
            ReviewLog.deck_id == deck.id,
            ReviewLog.reviewed_at >= since,
        )
    )
    return DeckStats(
        deck_id=deck.id,
        name=deck.name,
        cards=summary.cards,
        due_now=summary.due,
        new=summary.new,
        reviews=reviews or 0,
        retention=recalled / total_mature if total_mature else None,
        reviews_per_day=[(day, count) for day, count in per_day],
        due_forecast=await _due_forecast(session, user, deck.id, now),
    )


async def _due_forecast(
    session: AsyncSession, user: User, deck_id: int, now: datetime, days: int = 14
) -> list[tuple[date, int]]:
    zone = user_zone(user)
    today = now.astimezone(zone).date()
    end = datetime.combine(today + timedelta(days=days), datetime.min.time(), zone)
    local_day = func.date(func.timezone(zone.key, CardState.due))
    rows = await session.execute(
        select(local_day, func.count())
        .where(
            CardState.user_id == user.id,
            CardState.deck_id == deck_id,
            CardState.last_review.is_not(None),
            CardState.suspended.is_(False),
            CardState.due < end,
        )
        .group_by(local_day)
    )
    counts: dict[date, int] = {}
    for day, count in rows:
        key = max(day, today)
        counts[key] = counts.get(key, 0) + count
    return [
        (today + timedelta(days=i), counts.get(today + timedelta(days=i), 0)) for i in range(days)
    ]


@dataclass(frozen=True)
class CardView:
    card_id: int
    kind: str
    question: str
    answer: str
    tags: str
    due: datetime
    reps: int
    lapses: int
    is_new: bool


async def list_cards(
    session: AsyncSession, user: User, deck_id: int, *, offset: int = 0, limit: int = 50
) -> list[CardView]:
    """A page of a deck's cards with the user's own schedule for each (dashboard)."""
    deck = await get_deck(session, user, deck_id)
    rows = await session.execute(
        select(
            FlashCard.id,
            FlashCard.ordinal,
            Note.kind,
            Note.front,
            Note.back,
            Note.tags,
            CardState.due,
            CardState.reps,
            CardState.lapses,
            CardState.last_review,
        )
        .join(Note, Note.id == FlashCard.note_id)
        .join(
            CardState,
            (CardState.card_id == FlashCard.id) & (CardState.user_id == user.id),
        )
        .where(FlashCard.deck_id == deck.id)
        .order_by(FlashCard.id)
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), 500))
    )
    views = []
    for card_id, ordinal, kind, front, back, tags, due, reps, lapses, last_review in rows:
        question, answer = card_sides(kind, front, back, ordinal)
        views.append(
            CardView(
                card_id=card_id,
                kind=kind,
                question=question,
                answer=answer,
                tags=tags,
                due=due,
                reps=reps,
                lapses=lapses,
                is_new=last_review is None,
            )
        )
    return views
