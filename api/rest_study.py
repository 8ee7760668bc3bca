"""REST routes for the caller's decks (with review statistics, renaming, deleting and
merging), their cards (find, edit, suspend, delete) and documents, over core.flashcards
and core.documents; every lookup is scoped there."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from api.rest import ApiCaller, Caller, PlainText
from api.web import RowId, Tx, state
from core.documents import service as documents
from core.flashcards import browse, decks
from core.flashcards import service as flashcards
from core.flashcards import stats as deck_stats
from core.flashcards.browse import CardEntry
from core.flashcards.service import DeckSummary
from core.identity.models import User

router = APIRouter(prefix="/api/v1", tags=["study"])


class DeckOut(BaseModel):
    id: int
    name: str
    owned: bool
    room_id: int | None
    room_title: str | None
    cards: int
    due: int
    new: int


class DayCount(BaseModel):
    day: date
    count: int


class DeckStatsOut(BaseModel):
    deck_id: int
    name: str
    cards: int
    due_now: int
    new: int
    reviews: int
    retention: float | None
    reviews_per_day: list[DayCount]
    due_forecast: list[DayCount]


class CardOut(BaseModel):
    card_id: int
    kind: str
    question: str
    answer: str
    tags: str
    due: datetime
    reps: int
    lapses: int
    is_new: bool


class DocumentOut(BaseModel):
    id: int
    title: str
    kind: str
    size_bytes: int
    status: str
    error: str | None
    pages: int | None
    chunk_count: int
    created_at: datetime


async def _user(session: AsyncSession, who: Caller) -> User:
    user = await session.get(User, who.user_id)
    assert user is not None
    return user


def _deck_out(d: DeckSummary) -> DeckOut:
    return DeckOut(
        id=d.id,
        name=d.name,
        owned=d.owned,
        room_id=d.room_id,
        room_title=d.room_title,
        cards=d.cards,
        due=d.due,
        new=d.new,
    )


def _days(rows: list[tuple[date, int]]) -> list[DayCount]:
    return [DayCount(day=day, count=count) for day, count in rows]


@router.get("/decks", response_model=list[DeckOut])
async def list_decks(request: Request, who: ApiCaller, session: Tx) -> list[DeckOut]:
    web = state(request)
    rows = await flashcards.list_decks(session, await _user(session, who), web.now())
    return [_deck_out(d) for d in rows]


@router.get("/decks/{deck_id}/stats", response_model=DeckStatsOut)
async def get_deck_stats(
    request: Request,
    who: ApiCaller,
    session: Tx,
    deck_id: RowId,
    days: int = Query(default=30, ge=1, le=365),
) -> DeckStatsOut:
    web = state(request)
    user = await _user(session, who)
    found = await deck_stats.deck_stats(session, user, deck_id, web.now(), days=days)
    return DeckStatsOut(
        deck_id=found.deck_id,
        name=found.name,
        cards=found.cards,
        due_now=found.due_now,
        new=found.new,
        reviews=found.reviews,
        retention=found.retention,
        reviews_per_day=_days(found.reviews_per_day),
        due_forecast=_days(found.due_forecast),
    )


@router.get("/decks/{deck_id}/cards", response_model=list[CardOut])
async def list_cards(
    request: Request,
    who: ApiCaller,
    session: Tx,
    deck_id: RowId,
    offset: int = Query(default=0, ge=0, le=1_000_000),
    limit: int = Query(default=50, ge=1, le=500),
) -> list[CardOut]:
    user = await _user(session, who)
    rows = await deck_stats.list_cards(session, user, deck_id, offset=offset, limit=limit)
    return [
        CardOut(
            card_id=c.card_id,
            kind=c.kind,
            question=c.question,
            answer=c.answer,
            tags=c.tags,
            due=c.due,
            reps=c.reps,
            lapses=c.lapses,
            is_new=c.is_new,
        )
        for c in rows
    ]


class DeckRename(BaseModel):
    name: PlainText = Field(min_length=1, max_length=100)


class DeckMerge(BaseModel):
    into_deck_id: int = Field(ge=1, le=2**63 - 1)


class MergedOut(BaseModel):
    deck: DeckOut
    moved_cards: int
    duplicates_dropped: int


@router.patch("/decks/{deck_id}", response_model=DeckOut)
async def rename_deck(
    request: Request, who: ApiCaller, session: Tx, deck_id: RowId, body: DeckRename
) -> DeckOut:
    web = state(request)
    user = await _user(session, who)
    deck = await decks.own_deck_by_id(session, user, deck_id)
    await decks.rename_deck(session, user, deck, body.name)
    return _deck_out(await flashcards.deck_summary(session, user, deck, web.now()))


@router.delete("/decks/{deck_id}", status_code=204)
async def delete_deck(request: Request, who: ApiCaller, session: Tx, deck_id: RowId) -> None:
    await decks.delete_deck(session, await _user(session, who), deck_id)


@router.post("/decks/{deck_id}/merge", response_model=MergedOut)
async def merge_deck(
    request: Request, who: ApiCaller, session: Tx, deck_id: RowId, body: DeckMerge
) -> MergedOut:
    """Move every card of this deck into `into_deck_id` (both yours) and delete this one."""
    web = state(request)
    user = await _user(session, who)
    source = await decks.own_deck_by_id(session, user, deck_id)
    target = await decks.own_deck_by_id(session, user, body.into_deck_id)
    merged = await decks.merge_decks(session, user, source, target, web.now())
    summary = await flashcards.deck_summary(session, user, target, web.now())
    return MergedOut(
        deck=_deck_out(summary),
        moved_cards=merged.moved_notes,
        duplicates_dropped=merged.duplicates,
    )


class CardEntryOut(BaseModel):
    """A card as the student wrote it (a note: its reverse side or cloze numbers go with
    it); `number` is what /editcard and /delcard take in chat."""

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

    @classmethod
    def of(cls, e: CardEntry) -> CardEntryOut:
        return cls.model_validate(e, from_attributes=True)


class CardPageOut(BaseModel):
    cards: list[CardEntryOut]
    total: int
    offset: int
    limit: int
    has_more: bool


class CardChange(BaseModel):
    """New text (front, and back unless it is a cloze) and/or suspending it for you."""

    front: PlainText | None = Field(default=None, min_length=1, max_length=4000)
    back: PlainText | None = Field(default=None, max_length=4000)
    suspended: bool | None = None


@router.get("/cards", response_model=CardPageOut)
async def find_cards(
    request: Request,
    who: ApiCaller,
    session: Tx,
    deck_id: int | None = Query(default=None, ge=1, le=2**63 - 1),
    search: str = Query(default="", max_length=200),
    offset: int = Query(default=0, ge=0, le=1_000_000),
    limit: int = Query(default=20, ge=1, le=100),
) -> CardPageOut:
    user = await _user(session, who)
    deck = await flashcards.get_deck(session, user, deck_id) if deck_id else None
    page = await browse.find_cards(
        session, user, deck=deck, search=search, offset=offset, limit=limit
    )
    return CardPageOut(
        cards=[CardEntryOut.of(e) for e in page.entries],
        total=page.total,
        offset=offset,
        limit=limit,
        has_more=page.has_more,
    )


@router.get("/cards/{number}", response_model=CardEntryOut)
async def get_card(request: Request, who: ApiCaller, session: Tx, number: RowId) -> CardEntryOut:
    return CardEntryOut.of(await browse.entry(session, await _user(session, who), number))


@router.patch("/cards/{number}", response_model=CardEntryOut)
async def change_card(
    request: Request, who: ApiCaller, session: Tx, number: RowId, body: CardChange
) -> CardEntryOut:
    web = state(request)
    user = await _user(session, who)
    found = await browse.entry(session, user, number)
    if body.front is not None or body.back is not None:
        front = body.front if body.front is not None else found.front
        back = body.back if body.back is not None else found.back
        found = await browse.edit_note(session, user, number, front, back, web.now())
    if body.suspended is not None:
        found = await browse.set_suspended(session, user, number, body.suspended, web.now())
    return CardEntryOut.of(found)


@router.delete("/cards/{number}", status_code=204)
async def delete_card(request: Request, who: ApiCaller, session: Tx, number: RowId) -> None:
    """Delete a card (owner only) with every learner's schedule and review log rows for it."""
    await browse.delete_note(session, await _user(session, who), number)


@router.get("/documents", response_model=list[DocumentOut])
async def list_documents(request: Request, who: ApiCaller, session: Tx) -> list[DocumentOut]:
    rows = await documents.visible_documents(session, await _user(session, who), None)
    return [
        DocumentOut(
            id=d.id,
            title=d.title,
            kind=d.kind,
            size_bytes=d.size_bytes,
            status=d.status,
            error=d.error,
            pages=d.pages,
            chunk_count=d.chunk_count,
            created_at=d.created_at,
        )
        for d in rows
    ]


@router.delete("/documents/{document_id}", status_code=204)
async def delete_document(
    request: Request, who: ApiCaller, session: Tx, document_id: RowId
) -> None:
    await documents.delete_own_document(session, await _user(session, who), document_id)
