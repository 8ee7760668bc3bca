"""Finding and fixing cards: a page of the notes the user can see (searchable), editing and
deleting a note (its owner only), and suspending its cards in the user's own schedule.

A card's number is its note's id: one note (a front and a back, or a cloze text) is what
the student wrote, and its cards (reverse side, cloze numbers) go with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Exists, Select, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadInput, NotFound
from core.flashcards import service
from core.flashcards.activity import recount, reviewers
from core.flashcards.models import CardState, Deck, FlashCard, Note, ReviewLog
from core.flashcards.notes import make_note
from core.identity.models import Membership, User

MAX_SEARCH = 200


@dataclass(frozen=True)
class CardEntry:
    number: int
    deck_id: int
    deck_name: str
    owned: bool
    kind: str
    front: str
    back: str
    tags: str
    cards: int
    suspended: bool


@dataclass(frozen=True)
class CardPage:
    entries: list[CardEntry]
    total: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.entries) < self.total


def _suspended(user_id: int) -> Exists:
    return (
        select(CardState.card_id)
        .join(FlashCard, FlashCard.id == CardState.card_id)
        .where(
            FlashCard.note_id == Note.id,
            CardState.user_id == user_id,
            CardState.suspended.is_(True),
        )
        .exists()
    )


def _visible_decks(user_id: int) -> Select[int]:
    rooms = select(Membership.room_id).where(Membership.user_id == user_id)
    return select(Deck.id).where(or_(Deck.owner_id == user_id, Deck.room_id.in_(rooms)))


async def find_cards(
    session: AsyncSession,
    user: User,
    *,
    deck: Deck | None = None,
    search: str = "",
    offset: int = 0,
    limit: int = 5,
) -> CardPage:
    """A page of the notes in the decks the user can see (or one deck), whose front, back
    or tags contain `search`; oldest first, as they were added."""
    search = " ".join(search.split())
    if len(search) > MAX_SEARCH or "\x00" in search:
        raise BadInput(f"Search for at most {MAX_SEARCH} characters.")
    query = select(Note).where(Note.deck_id.in_(_visible_decks(user.id)))
    if deck is not None:
        query = query.where(Note.deck_id == deck.id)
    if search:
        query = query.where(
            or_(
                Note.front.icontains(search, autoescape=True),
                Note.back.icontains(search, autoescape=True),
                Note.tags.icontains(search, autoescape=True),
            )
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    cards = (
        select(func.count()).where(FlashCard.note_id == Note.id).correlate(Note).scalar_subquery()
    )
    rows = await session.execute(
        query.add_columns(Deck.name, Deck.owner_id, cards, _suspended(user.id))
        .join(Deck, Deck.id == Note.deck_id)
        .order_by(Note.id)
        .offset(max(offset, 0))
        .limit(max(min(limit, 100), 1))
    )
    entries = [
        CardEntry(
            number=note.id,
            deck_id=note.deck_id,
            deck_name=deck_name,
            owned=owner_id == user.id,
            kind=note.kind,
            front=note.front,
            back=note.back,
            tags=note.tags,
            cards=int(n_cards),
            suspended=bool(suspended),
        )
        for note, deck_name, owner_id, n_cards, suspended in rows
    ]
    return CardPage(entries, int(total or 0), offset, limit)


async def get_note(session: AsyncSession, user: User, number: int) -> tuple[Note, Deck]:
    """A note in a deck the user can see; another user's note answers as a missing one."""
    found = (
        await session.execute(
            select(Note, Deck)
            .join(Deck, Deck.id == Note.deck_id)
            .where(Note.id == number, Note.deck_id.in_(_visible_decks(user.id)))
        )
    ).first()
    if found is None:
        raise NotFound(f"There is no card {number} in your decks.", "/cards lists them.")
    note, deck = found
    return note, deck


async def entry(session: AsyncSession, user: User, number: int) -> CardEntry:
    note, deck = await get_note(session, user, number)
    n_cards = await session.scalar(select(func.count()).where(FlashCard.note_id == note.id))
    suspended = await session.scalar(
        select(_suspended(user.id)).select_from(Note).where(Note.id == note.id)
    )
    return CardEntry(
        number=note.id,
        deck_id=deck.id,
        deck_name=deck.name,
        owned=deck.owner_id == user.id,
        kind=note.kind,
        front=note.front,
        back=note.back,
        tags=note.tags,
        cards=int(n_cards or 0),
        suspended=bool(suspended),
    )


async def edit_note(
    session: AsyncSession, user: User, number: int, front: str, back: str, now: datetime
) -> CardEntry:
    """Change a note's text (owner only). Its cards keep their schedules; a cloze number
    added makes a new card, one removed drops its card."""
    note, deck = await get_note(session, user, number)
    service.require_owner(user, deck)
    if "\x00" in front + back:
        raise BadInput("A card cannot contain a NUL character; remove it.")
    draft = make_note(front, back, reverse=note.kind == "reverse", tags=note.tags)
    clash = await session.scalar(
        select(Note.id).where(
            Note.deck_id == deck.id, Note.content_hash == draft.content_hash, Note.id != note.id
        )
    )
    if clash is not None:
        raise BadInput(f"Card {clash} in this deck already says exactly that.")
    wanted = set(draft.ordinals())
    have = set(await session.scalars(select(FlashCard.ordinal).where(FlashCard.note_id == note.id)))
    if have - wanted:
        gone = select(FlashCard.id).where(
            FlashCard.note_id == note.id, FlashCard.ordinal.in_(have - wanted)
        )
        affected = await reviewers(session, ReviewLog.card_id.in_(gone))
        await session.execute(
            delete(FlashCard).where(
                FlashCard.note_id == note.id, FlashCard.ordinal.in_(have - wanted)
            )
        )
        await recount(session, affected)
    note.kind, note.front, note.back, note.content_hash = (
        draft.kind,
        draft.front,
        draft.back,
        draft.content_hash,
    )
    for ordinal in sorted(wanted - have):
        session.add(FlashCard(note_id=note.id, deck_id=deck.id, ordinal=ordinal))
    await session.flush()
    if wanted - have:
        for learner in await _learners(session, deck):
            await service.ensure_states(session, learner, deck.id, now)
    return await entry(session, user, number)


async def _learners(session: AsyncSession, deck: Deck) -> list[int]:
    if deck.room_id is None:
        return [deck.owner_id]
    members = await session.scalars(
        select(Membership.user_id).where(Membership.room_id == deck.room_id)
    )
    return sorted({deck.owner_id, *members})


async def delete_note(session: AsyncSession, user: User, number: int) -> CardEntry:
    """Delete a note with its cards (owner only). As in Anki, every learner's schedule and
    review log rows for those cards go with them (the database cascades)."""
    found = await entry(session, user, number)
    note, deck = await get_note(session, user, number)
    service.require_owner(user, deck)
    cards = select(FlashCard.id).where(FlashCard.note_id == note.id)
    affected = await reviewers(session, ReviewLog.card_id.in_(cards))
    await session.execute(delete(Note).where(Note.id == note.id))
    await recount(session, affected)
    session.expunge(note)
    return found


async def set_suspended(
    session: AsyncSession, user: User, number: int, suspended: bool, now: datetime
) -> CardEntry:
    """Suspend (or bring back) a note's cards in the user's own schedule: a suspended card
    is never picked for review nor counted as due. Any learner of the deck may do this for
    themselves; the other members' schedules are untouched."""
    note, deck = await get_note(session, user, number)
    if deck.owner_id != user.id:
        await service.ensure_states(session, user.id, deck.id, now)
    cards = select(FlashCard.id).where(FlashCard.note_id == note.id)
    await session.execute(
        update(CardState)
        .where(CardState.user_id == user.id, CardState.card_id.in_(cards))
        .values(suspended=suspended)
    )
    return await entry(session, user, number)
