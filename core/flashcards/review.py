"""Reviewing: picking the next due or new card, grading an answer with FSRS, and the
summary of a review round (one /review run). Only cards in decks the learner can see
now are shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fsrs import Rating, Scheduler, State
from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadInput, NotFound
from core.flashcards import scheduling
from core.flashcards.activity import count_review
from core.flashcards.deck_access import ACTIVE, DUE, can_see, ensure_states, visible_decks
from core.flashcards.models import (
    CardState,
    Deck,
    FlashCard,
    Note,
    ReviewLog,
    ReviewRound,
    StudyPrefs,
)
from core.flashcards.notes import card_sides
from core.flashcards.preferences import get_prefs
from core.identity.models import Membership, User
from core.identity.service import user_zone


@dataclass(frozen=True)
class DueCard:
    card_id: int
    deck_name: str
    question: str
    answer: str
    is_new: bool
    intervals: dict[Rating, timedelta]


async def start_round(
    session: AsyncSession, user: User, deck: Deck | None, now: datetime
) -> ReviewRound:
    if deck is not None and not await can_see(session, user.id, deck):
        raise NotFound("That deck doesn't exist (or isn't shared with you).")
    # Someone who joined a room after a deck was shared gets their schedule for it now.
    shared = visible_decks(user.id).with_only_columns(Deck.id).where(Deck.owner_id != user.id)
    if deck is not None:
        shared = shared.where(Deck.id == deck.id)
    for shared_id in list(await session.scalars(shared)):
        await ensure_states(session, user.id, shared_id, now)
    run = ReviewRound(user_id=user.id, deck_id=deck.id if deck else None, started_at=now)
    session.add(run)
    await session.flush()
    return run


async def get_round(session: AsyncSession, user: User, round_id: int) -> ReviewRound:
    run = await session.get(ReviewRound, round_id)
    # Someone else's round reads exactly like a missing one: ids are not to be probed.
    if run is None or run.user_id != user.id:
        raise NotFound("That review session is over. Start a new one with /review.")
    return run


async def next_card(
    session: AsyncSession, user: User, run: ReviewRound, now: datetime
) -> DueCard | None:
    """The next card to review: the most overdue seen card, else an unseen one while the
    user's new-cards-per-day allowance lasts; None when nothing is due."""
    prefs = await get_prefs(session, user)
    row = await session.scalar(
        _scoped_states(user.id, run.deck_id)
        .where(CardState.last_review.is_not(None), CardState.due <= now)
        .order_by(CardState.due)
        .limit(1)
    )
    if row is None and await new_cards_left(session, user, prefs, now) > 0:
        row = await session.scalar(
            _scoped_states(user.id, run.deck_id)
            .where(CardState.last_review.is_(None))
            .order_by(CardState.deck_id, CardState.card_id)
            .limit(1)
        )
    if row is None:
        return None
    return await _due_card(session, row, scheduling.scheduler_for(prefs), now)


def _scoped_states(user_id: int, deck_id: int | None) -> Select[CardState]:
    """The user's schedule rows in decks they can see now (a member who left a room
    keeps their rows, but no longer sees the room's decks)."""
    visible = visible_decks(user_id).with_only_columns(Deck.id)
    query = select(CardState).where(
        CardState.user_id == user_id, CardState.deck_id.in_(visible), ACTIVE
    )
    if deck_id is not None:
        query = query.where(CardState.deck_id == deck_id)
    return query


async def new_cards_left(
    session: AsyncSession, user: User, prefs: StudyPrefs, now: datetime
) -> int:
    """How many unseen cards the user may still start today (their local day)."""
    zone = user_zone(user)
    day_start = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    started = await session.scalar(
        select(func.count())
        .select_from(ReviewLog)
        .where(
            ReviewLog.user_id == user.id,
            ReviewLog.reviewed_at >= day_start,
            ReviewLog.elapsed_days.is_(None),
        )
    )
    return max(prefs.new_per_day - (started or 0), 0)


async def _due_card(
    session: AsyncSession, row: CardState, scheduler: Scheduler, now: datetime
) -> DueCard:
    found = (
        await session.execute(
            select(Note.kind, Note.front, Note.back, FlashCard.ordinal, Deck.name)
            .join(FlashCard, FlashCard.note_id == Note.id)
            .join(Deck, Deck.id == FlashCard.deck_id)
            .where(FlashCard.id == row.card_id)
        )
    ).one()
    kind, front, back, ordinal, deck_name = found
    question, answer = card_sides(kind, front, back, ordinal)
    return DueCard(
        card_id=row.card_id,
        deck_name=deck_name,
        question=question,
        answer=answer,
        is_new=row.last_review is None,
        intervals=scheduling.preview(scheduler, row, now),
    )


async def show_card(session: AsyncSession, user: User, card_id: int, now: datetime) -> DueCard:
    """A card the user can see, with the interval each rating would give now."""
    row = await _visible_state(session, user, card_id)
    prefs = await get_prefs(session, user)
    return await _due_card(session, row, scheduling.scheduler_for(prefs), now)


async def _visible_state(
    session: AsyncSession, user: User, card_id: int, *, for_update: bool = False
) -> CardState:
    query = select(CardState).where(CardState.user_id == user.id, CardState.card_id == card_id)
    if for_update:
        query = query.with_for_update()
    row = await session.scalar(query)
    deck = await session.get(Deck, row.deck_id) if row is not None else None
    if row is None or deck is None or not await can_see(session, user.id, deck):
        raise NotFound("That card isn't in any of your decks any more.")
    return row


MAX_ANSWER = timedelta(hours=1)


def _answer_ms(taken: timedelta) -> int:
    """How long the answer took, for the review log (an INTEGER column, and FSRS's
    optimiser): a card left open for days was not studied for days, so it is capped."""
    return int(min(max(taken, timedelta(0)), MAX_ANSWER).total_seconds() * 1000)


@dataclass(frozen=True)
class Graded:
    due: datetime
    interval: timedelta
    already: bool = False


async def grade(
    session: AsyncSession,
    user: User,
    run: ReviewRound,
    card_id: int,
    rating: Rating,
    shown_at: datetime,
    now: datetime,
) -> Graded:
    """Record the user's answer and reschedule the card with FSRS. A second press of the
    same button (a card already answered since it was shown) changes nothing.

    `shown_at` comes back from the button, so it may be forged: a moment after `now` is
    refused, and a card answered before and not yet due again counts as answered whatever
    the button says (a review only ever shows due or new cards)."""
    if shown_at > now:
        raise BadInput("That button has expired. Try /review again.")
    row = await _visible_state(session, user, card_id, for_update=True)
    if row.last_review is not None and (row.last_review >= shown_at or row.due > now):
        return Graded(due=row.due, interval=row.due - now, already=True)
    prefs = await get_prefs(session, user)
    before = row.state
    elapsed = (now - row.last_review).total_seconds() / 86400 if row.last_review else None
    duration_ms = _answer_ms(now - shown_at)
    card = scheduling.review(scheduling.scheduler_for(prefs), row, rating, now, duration_ms)
    scheduling.apply(row, card)
    row.reps += 1
    if rating == Rating.Again and before == int(State.Review):
        row.lapses += 1
    session.add(
        ReviewLog(
            user_id=user.id,
            card_id=card_id,
            deck_id=row.deck_id,
            round_id=run.id,
            rating=int(rating),
            reviewed_at=now,
            elapsed_days=elapsed,
            duration_ms=duration_ms,
            state_before=before,
            due_after=card.due,
        )
    )
    await count_review(session, user.id, now, int(rating))
    return Graded(due=card.due, interval=card.due - now)


@dataclass(frozen=True)
class RoundSummary:
    reviewed: int
    by_rating: dict[Rating, int]
    seconds: float
    next_due: datetime | None


async def finish_round(
    session: AsyncSession, user: User, run: ReviewRound, now: datetime
) -> RoundSummary:
    if run.finished_at is None:
        run.finished_at = now
    rows = await session.execute(
        select(ReviewLog.rating, func.count(), func.coalesce(func.sum(ReviewLog.duration_ms), 0))
        .where(ReviewLog.round_id == run.id, ReviewLog.user_id == user.id)
        .group_by(ReviewLog.rating)
    )
    by_rating = {r: 0 for r in scheduling.RATINGS}
    total_ms = 0
    for rating, count, ms in rows:
        by_rating[Rating(rating)] = count
        total_ms += int(ms or 0)
    next_due = await session.scalar(
        _scoped_states(user.id, run.deck_id)
        .with_only_columns(func.min(CardState.due))
        .where(CardState.last_review.is_not(None))
    )
    return RoundSummary(
        reviewed=sum(by_rating.values()),
        by_rating=by_rating,
        seconds=total_ms / 1000,
        next_due=next_due,
    )


async def due_counts_by_user(session: AsyncSession, now: datetime) -> dict[int, int]:
    """Seen cards due now per user, over decks each user can still see."""
    member_rooms = select(Membership.room_id).where(Membership.user_id == CardState.user_id)
    rows = await session.execute(
        select(CardState.user_id, func.count())
        .join(Deck, Deck.id == CardState.deck_id)
        .where(
            *DUE,
            CardState.due <= now,
            or_(Deck.owner_id == CardState.user_id, Deck.room_id.in_(member_rooms)),
        )
        .group_by(CardState.user_id)
    )
    return {user_id: count for user_id, count in rows}
