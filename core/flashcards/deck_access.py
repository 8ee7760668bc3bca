"""Decks and who may see them: a deck is visible to its owner and, when shared with a room,
to that room's members; only the owner changes it. Also each deck's card counts, and the
schedule rows every learner of a deck needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fsrs import State
from sqlalchemy import Select, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.rollup import record
from core.chat.markup import escape
from core.errors import Forbidden, NotFound
from core.flashcards.models import CardState, Deck, FlashCard
from core.flashcards.names import check_deck_name, name_key
from core.flashcards.preferences import get_prefs
from core.identity.models import Membership, Room, User
from core.identity.service import is_member


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
ACTIVE = CardState.suspended.is_(False)
DUE = (CardState.last_review.is_not(None), ACTIVE)
NEW = (CardState.last_review.is_(None), ACTIVE)


def visible_decks(user_id: int) -> Select[Deck]:
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
    key = name_key(name)
    deck = await session.scalar(
        visible_decks(user.id)
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
    query = visible_decks(user.id) if not own_only else select(Deck).where(Deck.owner_id == user.id)
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
        deck, created = Deck(owner_id=user.id, name=clean, name_key=name_key(clean)), True
        session.add(deck)
        await session.flush()
        await record(session, user.id, None, decks_made=1)  # stamped by the database's now()
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
    visible_query = visible_decks(user.id)
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
        func.count().filter(*DUE, CardState.due <= now).label("due"),
        func.count().filter(*NEW).label("new"),
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
        select(Deck).where(Deck.owner_id == user.id, Deck.name_key == name_key(name))
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


def require_owner(user: User, deck: Deck) -> None:
    if deck.owner_id != user.id:
        raise Forbidden(f"Only the owner of “{escape(deck.name)}” can change it.")


async def deck_summary(session: AsyncSession, user: User, deck: Deck, now: datetime) -> DeckSummary:
    """One visible deck's counts for the user (see `list_decks`)."""
    [summary] = await _summaries(session, user, now, deck.id)
    return summary
