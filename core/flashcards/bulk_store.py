"""Adding notes and their cards in bulk (imports of tens of thousands of rows), and
reading a deck's notes back for export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fsrs import State
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from core.flashcards.deck_access import can_see, require_owner
from core.flashcards.models import Deck, Note
from core.flashcards.notes import NoteDraft
from core.identity.models import Membership, User

INSERT_CHUNK = 5000


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
