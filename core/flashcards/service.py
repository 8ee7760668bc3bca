"""Flashcard rules: decks and who may see them, notes and cards, review sessions scheduled
by FSRS, per-user preferences and the statistics the dashboard shows.

Every function takes the acting user; a deck is visible to its owner and, when shared
with a room, to that room's members. Only the owner changes a deck."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fsrs import Rating, Scheduler, State
from sqlalchemy import Select, func, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.markup import escape
from core.errors import BadInput, Forbidden, NotFound
from core.flashcards import scheduling
from core.flashcards.models import (
    CardState,
    Deck,
    FlashCard,
    Note,
    ReviewLog,
    ReviewSession,
    StudyPrefs,
)
from core.flashcards.names import MAX_DECK_NAME as MAX_DECK_NAME  # used by the tutor
from core.flashcards.names import check_deck_name
from core.flashcards.notes import NoteDraft, card_sides
from core.identity.models import Membership, Room, User
from core.identity.service import is_member, user_zone

INSERT_CHUNK = 5000


# Decks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeckSummary:
    id: int
    name: str
    owned: bool
    room_id: int | None
    room_title: str | None
    cards: int
    due: int
    new: int


# A suspended card is never picked for review nor counted as due or new.
_ACTIVE = CardState.suspended.is_(False)
_DUE = (CardState.last_review.is_not(None), _ACTIVE)
_NEW = (CardState.last_review.is_(None), _ACTIVE)


def _visible(user_id: int) -> Select[Deck]:
    rooms = select(Membership.room_id).where(Membership.user_id == user_id)
    return select(Deck).where(or_(Deck.owner_id == user_id, Deck.room_id.in_(rooms)))


async def can_see(session: AsyncSession, user_id: int, deck: Deck) -> bool:
    if deck.owner_id == user_id:
        return True
    return deck.room_id is not None and await is_member(session, deck.room_id, user_id)


async def get_deck(session: AsyncSession, user: User, deck_id: int) -> Deck:
    deck = await session.get(Deck, deck_id)
    if deck is None or not await can_see(session, user.id, deck):
        raise NotFound("That deck doesn't exist (or isn't shared with you).")
    return deck


async def find_deck(session: AsyncSession, user: User, name: str) -> Deck:
    """A deck the user can see, by name (case-insensitive); their own deck wins."""
    key = _name_key(name)
    deck = await session.scalar(
        _visible(user.id)
        .where(Deck.name_key == key)
        .order_by((Deck.owner_id == user.id).desc(), Deck.id)
        .limit(1)
    )
    if deck is None:
        raise NotFound(f"You have no deck called “{escape(name.strip())}”. /decks lists yours.")
    return deck


async def decks_matching(
    session: AsyncSession, user: User, typed: str, *, own_only: bool = False, limit: int = 25
) -> list[Deck]:
    """Decks the user can see (or only their own) whose name contains what was typed:
    for suggestions while a deck name is being entered."""
    query = _visible(user.id) if not own_only else select(Deck).where(Deck.owner_id == user.id)
    if typed.strip():
        query = query.where(Deck.name.icontains(typed.strip(), autoescape=True))
    order = ((Deck.owner_id == user.id).desc(), Deck.name_key, Deck.id)
    return list(await session.scalars(query.order_by(*order).limit(limit)))


async def use_deck(session: AsyncSession, user: User, name: str) -> tuple[Deck, bool]:
    """Switch to the deck called `name`, creating it when the user has none by that name.
    Returns the deck and whether it was created."""
    clean = check_deck_name(name)
    try:
        deck, created = await find_deck(session, user, clean), False
    except NotFound:
        deck, created = Deck(owner_id=user.id, name=clean, name_key=_name_key(clean)), True
        session.add(deck)
        await session.flush()
    prefs = await get_prefs(session, user)
    prefs.current_deck_id = deck.id
    return deck, created


async def current_deck(session: AsyncSession, user: User) -> Deck | None:
    prefs = await get_prefs(session, user)
    if prefs.current_deck_id is None:
        return None
    deck = await session.get(Deck, prefs.current_deck_id)
    if deck is None or not await can_see(session, user.id, deck):
        return None
    return deck


async def list_decks(session: AsyncSession, user: User, now: datetime) -> list[DeckSummary]:
    """Every deck the user can see with its card count, cards due now and unseen cards."""
    return await _summaries(session, user, now)


async def _summaries(
    session: AsyncSession, user: User, now: datetime, deck_id: int | None = None
) -> list[DeckSummary]:
    """One query for any number of decks: counts are grouped per deck, then joined."""
    visible_query = _visible(user.id)
    if deck_id is not None:
        visible_query = visible_query.where(Deck.id == deck_id)
    shared = await session.scalars(
        visible_query.with_only_columns(Deck.id).where(Deck.owner_id != user.id)
    )
    for shared_id in list(shared):
        await ensure_states(session, user.id, shared_id, now)
    visible = visible_query.subquery()
    # Every card has a state row for each learner (ensured above), so they count cards too.
    states_query = select(
        CardState.deck_id,
        func.count().label("cards"),
        func.count().filter(*_DUE, CardState.due <= now).label("due"),
        func.count().filter(*_NEW).label("new"),
    ).where(CardState.user_id == user.id)
    if deck_id is not None:
        states_query = states_query.where(CardState.deck_id == deck_id)
    states = states_query.group_by(CardState.deck_id).subquery()
    rows = await session.execute(
        select(
            visible.c.id,
            visible.c.name,
            visible.c.owner_id,
            visible.c.room_id,
            Room.title,
            func.coalesce(states.c.cards, 0),
            func.coalesce(states.c.due, 0),
            func.coalesce(states.c.new, 0),
        )
        .outerjoin(states, states.c.deck_id == visible.c.id)
        .outerjoin(Room, Room.id == visible.c.room_id)
        .order_by(visible.c.name_key, visible.c.id)
    )
    return [
        DeckSummary(
            id=id_,
            name=name,
            owned=owner_id == user.id,
            room_id=room_id,
            room_title=room_title,
            cards=n_cards,
            due=due,
            new=new,
        )
        for id_, name, owner_id, room_id, room_title, n_cards, due, new in rows
    ]


async def share_with_room(
    session: AsyncSession, user: User, room: Room, name: str, now: datetime
) -> Deck:
    """Share one of the user's own decks with a room they are in; each member gets their
    own schedule for it."""
    if not await is_member(session, room.id, user.id):
        raise Forbidden("You can only share a deck with a room you are in.")
    deck = await session.scalar(
        select(Deck).where(Deck.owner_id == user.id, Deck.name_key == _name_key(name))
    )
    if deck is None:
        raise NotFound(
            f"You have no deck called “{escape(name.strip())}” to share. /decks lists yours."
        )
    deck.room_id = room.id
    members = await session.scalars(select(Membership.user_id).where(Membership.room_id == room.id))
    for member_id in members:
        await ensure_states(session, member_id, deck.id, now)
    return deck


async def ensure_states(session: AsyncSession, user_id: int, deck_id: int, now: datetime) -> None:
    """Give the user a (new) schedule entry for every card of the deck they lack one for."""
    await session.execute(
        insert(CardState)
        .from_select(
            ["user_id", "card_id", "deck_id", "state", "step", "due", "reps", "lapses"],
            select(
                literal(user_id),
                FlashCard.id,
                FlashCard.deck_id,
                literal(int(State.Learning)),
                literal(0),
                literal(now),
                literal(0),
                literal(0),
            )
            .where(FlashCard.deck_id == deck_id)
            .where(
                ~select(CardState.card_id)
                .where(CardState.user_id == user_id, CardState.card_id == FlashCard.id)
                .exists()
            ),
        )
        .on_conflict_do_nothing()
    )


def _name_key(name: str) -> str:
    return " ".join(name.split()).lower()


def require_owner(user: User, deck: Deck) -> None:
    if deck.owner_id != user.id:
        raise Forbidden(f"Only the owner of “{escape(deck.name)}” can change it.")


# Notes and cards -----------------------------------------------------------------------


@dataclass(frozen=True)
class AddResult:
    notes: int
    cards: int
    duplicates: int


async def add_notes(
    session: AsyncSession, user: User, deck: Deck, drafts: Sequence[NoteDraft], now: datetime
) -> AddResult:
    """Add notes to the user's own deck; notes already in it (same text) are skipped."""
    require_owner(user, deck)
    learners = [user.id]
    if deck.room_id is not None:
        members = await session.scalars(
            select(Membership.user_id).where(Membership.room_id == deck.room_id)
        )
        learners = sorted({user.id, *members})
    notes = cards = 0
    by_hash: dict[str, NoteDraft] = {}
    for draft in drafts:
        by_hash.setdefault(draft.content_hash, draft)
    unique = list(by_hash.values())
    for start in range(0, len(unique), INSERT_CHUNK):
        chunk = unique[start : start + INSERT_CHUNK]
        added = await _insert_notes(session, deck.id, chunk)
        notes += len(added)
        card_ids = await _insert_cards(session, deck.id, added)
        cards += len(card_ids)
        await _insert_states(session, learners, deck.id, card_ids, now)
    return AddResult(notes=notes, cards=cards, duplicates=len(drafts) - notes)


# Bulk inserts pass one array per column through unnest(): one statement per chunk, with
# none of the per-row statement building that made a 20,000-row import take seconds.
_INSERT_NOTES = text(
    "INSERT INTO flashcard_notes (deck_id, kind, front, back, tags, content_hash) "
    "SELECT :deck, * FROM unnest(CAST(:kinds AS varchar[]), CAST(:fronts AS text[]), "
    "  CAST(:backs AS text[]), CAST(:tags AS varchar[]), CAST(:hashes AS varchar[])) "
    "ON CONFLICT (deck_id, content_hash) DO NOTHING RETURNING id, content_hash"
)
_INSERT_CARDS = text(
    "INSERT INTO flashcard_cards (note_id, deck_id, ordinal) "
    "SELECT t.note_id, :deck, t.ordinal "
    "FROM unnest(CAST(:notes AS bigint[]), CAST(:ordinals AS smallint[])) AS t(note_id, ordinal) "
    "RETURNING id"
)
_INSERT_STATES = text(
    "INSERT INTO flashcard_states (user_id, card_id, deck_id, state, step, due, reps, lapses) "
    "SELECT u.id, c.id, :deck, :state, 0, :now, 0, 0 "
    "FROM unnest(CAST(:users AS bigint[])) AS u(id), unnest(CAST(:cards AS bigint[])) AS c(id) "
    "ON CONFLICT DO NOTHING"
)


async def _insert_notes(
    session: AsyncSession, deck_id: int, drafts: Sequence[NoteDraft]
) -> list[tuple[int, NoteDraft]]:
    by_hash = {d.content_hash: d for d in drafts}
    rows = await session.execute(
        _INSERT_NOTES,
        {
            "deck": deck_id,
            "kinds": [d.kind for d in drafts],
            "fronts": [d.front for d in drafts],
            "backs": [d.back for d in drafts],
            "tags": [d.tags[:500] for d in drafts],
            "hashes": [d.content_hash for d in drafts],
        },
    )
    return [(note_id, by_hash[digest]) for note_id, digest in rows]


async def _insert_cards(
    session: AsyncSession, deck_id: int, notes: Sequence[tuple[int, NoteDraft]]
) -> list[int]:
    pairs = [(note_id, ordinal) for note_id, draft in notes for ordinal in draft.ordinals()]
    if not pairs:
        return []
    rows = await session.scalars(
        _INSERT_CARDS,
        {"deck": deck_id, "notes": [p[0] for p in pairs], "ordinals": [p[1] for p in pairs]},
    )
    return sorted(rows)


async def _insert_states(
    session: AsyncSession,
    user_ids: Sequence[int],
    deck_id: int,
    card_ids: Sequence[int],
    now: datetime,
) -> None:
    if not card_ids:
        return
    await session.execute(
        _INSERT_STATES,
        {
            "deck": deck_id,
            "state": int(State.Learning),
            "now": now,
            "users": list(user_ids),
            "cards": list(card_ids),
        },
    )


@dataclass(frozen=True)
class DeckNote:
    kind: str
    front: str
    back: str
    tags: str


async def deck_notes(session: AsyncSession, user: User, deck: Deck) -> list[DeckNote]:
    """The deck's notes in the order they were added (for export)."""
    if not await can_see(session, user.id, deck):
        raise NotFound("That deck doesn't exist (or isn't shared with you).")
    rows = await session.execute(
        select(Note.kind, Note.front, Note.back, Note.tags)
        .where(Note.deck_id == deck.id)
        .order_by(Note.id)
    )
    return [DeckNote(*row) for row in rows]


# Preferences ---------------------------------------------------------------------------


async def get_prefs(session: AsyncSession, user: User) -> StudyPrefs:
    prefs = await session.get(StudyPrefs, user.id)
    if prefs is None:
        await session.execute(
            insert(StudyPrefs)
            .values(user_id=user.id, desired_retention=scheduling.DEFAULT_RETENTION)
            .on_conflict_do_nothing()
        )
        prefs = await session.get(StudyPrefs, user.id)
        assert prefs is not None
    return prefs


async def set_retention(session: AsyncSession, user: User, value: float) -> StudyPrefs:
    if not 0.7 <= value <= 0.99:
        raise BadInput(
            "Desired retention is a share of cards you want to remember when they come due, "
            "between 0.70 and 0.99 (default 0.90): /retention 0.9"
        )
    prefs = await get_prefs(session, user)
    prefs.desired_retention = value
    return prefs


async def set_new_per_day(session: AsyncSession, user: User, value: int) -> StudyPrefs:
    if not 0 <= value <= 9999:
        raise BadInput("New cards per day is a number from 0 to 9999: /retention new 20")
    prefs = await get_prefs(session, user)
    prefs.new_per_day = value
    return prefs


# Reviewing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DueCard:
    card_id: int
    deck_name: str
    question: str
    answer: str
    is_new: bool
    intervals: dict[Rating, timedelta]


async def start_session(
    session: AsyncSession, user: User, deck: Deck | None, now: datetime
) -> ReviewSession:
    if deck is not None and not await can_see(session, user.id, deck):
        raise NotFound("That deck doesn't exist (or isn't shared with you).")
    # Someone who joined a room after a deck was shared gets their schedule for it now.
    shared = _visible(user.id).with_only_columns(Deck.id).where(Deck.owner_id != user.id)
    if deck is not None:
        shared = shared.where(Deck.id == deck.id)
    for shared_id in list(await session.scalars(shared)):
        await ensure_states(session, user.id, shared_id, now)
    run = ReviewSession(user_id=user.id, deck_id=deck.id if deck else None, started_at=now)
    session.add(run)
    await session.flush()
    return run


async def get_session(session: AsyncSession, user: User, session_id: int) -> ReviewSession:
    run = await session.get(ReviewSession, session_id)
    # Someone else's session reads exactly like a missing one: ids are not to be probed.
    if run is None or run.user_id != user.id:
        raise NotFound("That review session is over. Start a new one with /review.")
    return run


async def next_card(
    session: AsyncSession, user: User, run: ReviewSession, now: datetime
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
    visible = _visible(user_id).with_only_columns(Deck.id)
    query = select(CardState).where(
        CardState.user_id == user_id, CardState.deck_id.in_(visible), _ACTIVE
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
    run: ReviewSession,
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
            session_id=run.id,
            rating=int(rating),
            reviewed_at=now,
            elapsed_days=elapsed,
            duration_ms=duration_ms,
            state_before=before,
            due_after=card.due,
        )
    )
    return Graded(due=card.due, interval=card.due - now)


@dataclass(frozen=True)
class SessionSummary:
    reviewed: int
    by_rating: dict[Rating, int]
    seconds: float
    next_due: datetime | None


async def finish_session(
    session: AsyncSession, user: User, run: ReviewSession, now: datetime
) -> SessionSummary:
    if run.finished_at is None:
        run.finished_at = now
    rows = await session.execute(
        select(ReviewLog.rating, func.count(), func.coalesce(func.sum(ReviewLog.duration_ms), 0))
        .where(ReviewLog.session_id == run.id, ReviewLog.user_id == user.id)
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
    return SessionSummary(
        reviewed=sum(by_rating.values()),
        by_rating=by_rating,
        seconds=total_ms / 1000,
        next_due=next_due,
    )


# Reminders and optimisation (jobs) -------------------------------------------------------


async def due_counts_by_user(session: AsyncSession, now: datetime) -> dict[int, int]:
    """Seen cards due now per user, over decks each user can still see."""
    member_rooms = select(Membership.room_id).where(Membership.user_id == CardState.user_id)
    rows = await session.execute(
        select(CardState.user_id, func.count())
        .join(Deck, Deck.id == CardState.deck_id)
        .where(
            *_DUE,
            CardState.due <= now,
            or_(Deck.owner_id == CardState.user_id, Deck.room_id.in_(member_rooms)),
        )
        .group_by(CardState.user_id)
    )
    return {user_id: count for user_id, count in rows}


async def review_logs_for(session: AsyncSession, user_id: int) -> list[ReviewLog]:
    return list(
        await session.scalars(
            select(ReviewLog).where(ReviewLog.user_id == user_id).order_by(ReviewLog.reviewed_at)
        )
    )


async def users_to_optimize(session: AsyncSession, min_reviews: int) -> list[int]:
    """Users with at least `min_reviews` reviews and a fifth more than at their last
    optimisation."""
    counts = (
        select(ReviewLog.user_id, func.count().label("n")).group_by(ReviewLog.user_id).subquery()
    )
    rows = await session.scalars(
        select(counts.c.user_id)
        .outerjoin(StudyPrefs, StudyPrefs.user_id == counts.c.user_id)
        .where(
            counts.c.n >= min_reviews,
            or_(
                StudyPrefs.user_id.is_(None),
                counts.c.n >= func.coalesce(StudyPrefs.optimized_reviews, 0) * 1.2,
            ),
        )
        .order_by(counts.c.user_id)
    )
    return list(rows)


async def save_parameters(
    session: AsyncSession, user_id: int, parameters: Sequence[float], reviews: int, now: datetime
) -> None:
    await record_fit(session, user_id, parameters, reviews, now)


async def record_fit(
    session: AsyncSession,
    user_id: int,
    parameters: Sequence[float] | None,
    reviews: int,
    now: datetime,
) -> None:
    """Note that the user's schedule was fitted to `reviews` reviews at `now`; `parameters`
    None keeps the current ones (the fit did not predict better)."""
    await session.execute(
        insert(StudyPrefs)
        .values(user_id=user_id, desired_retention=scheduling.DEFAULT_RETENTION)
        .on_conflict_do_nothing()
    )
    values: dict[str, object] = {"optimized_at": now, "optimized_reviews": reviews}
    if parameters is not None:
        values["parameters"] = list(parameters)
    await session.execute(update(StudyPrefs).where(StudyPrefs.user_id == user_id).values(values))


async def current_parameters(session: AsyncSession, user_id: int) -> list[float] | None:
    """The user's own FSRS parameters, or None for the defaults."""
    return await session.scalar(select(StudyPrefs.parameters).where(StudyPrefs.user_id == user_id))


async def deck_summary(session: AsyncSession, user: User, deck: Deck, now: datetime) -> DeckSummary:
    """One visible deck's counts for the user (see `list_decks`)."""
    [summary] = await _summaries(session, user, now, deck.id)
    return summary
