"""Deck management: rename, delete and merge the user's own decks, and the words `/deck`
keeps for itself. Only a deck's owner changes it; a room deck stays shared."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.markup import escape, shorten
from core.db import rows_affected
from core.errors import BadInput, NotFound
from core.flashcards import service
from core.flashcards.activity import recount, reviewers
from core.flashcards.models import (
    CardState,
    Deck,
    FlashCard,
    Note,
    ReviewLog,
    ReviewRound,
    StudyPrefs,
)
from core.flashcards.names import check_deck_name, name_key
from core.identity.models import Membership, User


async def own_deck(session: AsyncSession, user: User, name: str) -> Deck:
    """One of the user's own decks by name; a room deck they only see is refused."""
    deck = await service.find_deck(session, user, name)
    service.require_owner(user, deck)
    return deck


async def own_deck_by_id(session: AsyncSession, user: User, deck_id: int) -> Deck:
    deck = await service.get_deck(session, user, deck_id)
    service.require_owner(user, deck)
    return deck


async def _own_names(session: AsyncSession, user: User) -> set[str]:
    rows = await session.scalars(select(Deck.name_key).where(Deck.owner_id == user.id))
    return set(rows)


async def split_two_names(session: AsyncSession, user: User, text: str) -> tuple[str, str]:
    """`<old> <new>` where names may hold spaces: `|` separates them when given; otherwise
    the longest leading words that name one of the user's decks are the first name."""
    if "|" in text:
        first, _, second = text.partition("|")
        return first.strip(), second.strip()
    words = text.split()
    names = await _own_names(session, user)
    for cut in range(len(words) - 1, 0, -1):
        if " ".join(words[:cut]).lower() in names:
            return " ".join(words[:cut]), " ".join(words[cut:])
    if len(words) == 2:
        return words[0], words[1]
    return text.strip(), ""


async def rename_deck(session: AsyncSession, user: User, deck: Deck, new_name: str) -> Deck:
    service.require_owner(user, deck)
    clean = check_deck_name(new_name)
    key = name_key(clean)
    clash = await session.scalar(
        select(Deck.id).where(Deck.owner_id == user.id, Deck.name_key == key, Deck.id != deck.id)
    )
    if clash is not None:
        raise BadInput(
            f"You already have a deck called “{escape(clean)}”. To join the two, "
            f"/deck merge {escape(deck.name)} | {escape(clean)}."
        )
    deck.name, deck.name_key = clean, key
    await session.flush()
    return deck


async def card_count(session: AsyncSession, deck: Deck) -> int:
    found = await session.scalar(select(func.count()).where(FlashCard.deck_id == deck.id))
    return int(found or 0)


@dataclass(frozen=True)
class Deleted:
    name: str
    cards: int


async def delete_deck(session: AsyncSession, user: User, deck_id: int) -> Deleted:
    """Delete one of the user's own decks with its notes, cards, every learner's schedule
    and review log for them (the database cascades from the deck)."""
    deck = await own_deck_by_id(session, user, deck_id)
    cards = await card_count(session, deck)
    name = deck.name
    affected = await reviewers(session, ReviewLog.deck_id == deck.id)
    await session.execute(delete(Deck).where(Deck.id == deck.id))
    await recount(session, affected | {deck.owner_id})
    session.expunge(deck)
    return Deleted(name, cards)


@dataclass(frozen=True)
class Merged:
    source: str
    target: str
    moved_notes: int
    duplicates: int


async def merge_decks(
    session: AsyncSession, user: User, source: Deck, target: Deck, now: datetime
) -> Merged:
    """Move every note of `source` into `target` (both the user's own) and delete `source`.
    A note already in `target` (same text) is dropped with its schedule; every other card
    keeps its schedule and review history."""
    service.require_owner(user, source)
    service.require_owner(user, target)
    if source.id == target.id:
        raise BadInput("That is the same deck twice: /deck merge <from> <into>.")
    existing = select(Note.content_hash).where(Note.deck_id == target.id)
    affected = await reviewers(session, ReviewLog.deck_id == source.id)
    duplicates = await session.execute(
        delete(Note).where(Note.deck_id == source.id, Note.content_hash.in_(existing))
    )
    moved = await session.execute(
        update(Note).where(Note.deck_id == source.id).values(deck_id=target.id)
    )
    for model in (FlashCard, CardState, ReviewLog):
        await session.execute(
            update(model).where(model.deck_id == source.id).values(deck_id=target.id)
        )
    await session.execute(
        update(ReviewRound).where(ReviewRound.deck_id == source.id).values(deck_id=target.id)
    )
    await session.execute(
        update(StudyPrefs)
        .where(StudyPrefs.current_deck_id == source.id)
        .values(current_deck_id=target.id)
    )
    if target.room_id is not None:
        members = await session.scalars(
            select(Membership.user_id).where(Membership.room_id == target.room_id)
        )
        for member_id in list(members):
            await service.ensure_states(session, member_id, target.id, now)
    source_name = source.name
    await session.execute(delete(Deck).where(Deck.id == source.id))
    await recount(session, affected | {source.owner_id})
    session.expunge(source)
    return Merged(
        source_name,
        target.name,
        moved_notes=rows_affected(moved),
        duplicates=rows_affected(duplicates),
    )


def no_such_deck(name: str) -> NotFound:
    return NotFound(f"You have no deck called “{escape(shorten(name, 60))}”. /decks lists yours.")
