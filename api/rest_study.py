"""REST routes for the caller's decks (with review statistics, renaming, deleting and
merging), their cards (find, edit, suspend, delete) and documents, over core.flashcards
and core.documents; every lookup is scoped there."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request

from api.rest import ApiCaller, ApiUser
from api.schemas.study import (
    CardChange,
    CardEntryOut,
    CardOut,
    CardPageOut,
    DayCount,
    DeckMerge,
    DeckOut,
    DeckRename,
    DeckStatsOut,
    DocumentOut,
    MergedOut,
)
from api.web import RowId, Tx, state
from core.documents import service as documents
from core.flashcards import browse, decks
from core.flashcards import service as flashcards
from core.flashcards import stats as deck_stats
from core.flashcards.service import DeckSummary

router = APIRouter(prefix="/api/v1", tags=["study"])


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
async def list_decks(request: Request, who: ApiCaller, user: ApiUser, session: Tx) -> list[DeckOut]:
    web = state(request)
    rows = await flashcards.list_decks(session, user, web.now())
    return [_deck_out(d) for d in rows]


@router.get("/decks/{deck_id}/stats", response_model=DeckStatsOut)
async def get_deck_stats(
    request: Request,
    who: ApiCaller,
    user: ApiUser,
    session: Tx,
    deck_id: RowId,
    days: int = Query(default=30, ge=1, le=365),
) -> DeckStatsOut:
    web = state(request)
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
    user: ApiUser,
    session: Tx,
    deck_id: RowId,
    offset: int = Query(default=0, ge=0, le=1_000_000),
    limit: int = Query(default=50, ge=1, le=500),
) -> list[CardOut]:
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


@router.patch("/decks/{deck_id}", response_model=DeckOut)
async def rename_deck(
    request: Request, who: ApiCaller, user: ApiUser, session: Tx, deck_id: RowId, body: DeckRename
) -> DeckOut:
    web = state(request)
    deck = await decks.own_deck_by_id(session, user, deck_id)
    await decks.rename_deck(session, user, deck, body.name)
    return _deck_out(await flashcards.deck_summary(session, user, deck, web.now()))


@router.delete("/decks/{deck_id}", status_code=204)
async def delete_deck(
    request: Request, who: ApiCaller, user: ApiUser, session: Tx, deck_id: RowId
) -> None:
    await decks.delete_deck(session, user, deck_id)


@router.post("/decks/{deck_id}/merge", response_model=MergedOut)
async def merge_deck(
    request: Request, who: ApiCaller, user: ApiUser, session: Tx, deck_id: RowId, body: DeckMerge
) -> MergedOut:
    """Move every card of this deck into `into_deck_id` (both yours) and delete this one."""
    web = state(request)
    source = await decks.own_deck_by_id(session, user, deck_id)
    target = await decks.own_deck_by_id(session, user, body.into_deck_id)
    merged = await decks.merge_decks(session, user, source, target, web.now())
    summary = await flashcards.deck_summary(session, user, target, web.now())
    return MergedOut(
        deck=_deck_out(summary),
        moved_cards=merged.moved_notes,
        duplicates_dropped=merged.duplicates,
    )


@router.get("/cards", response_model=CardPageOut)
async def find_cards(
    request: Request,
    who: ApiCaller,
    user: ApiUser,
    session: Tx,
    deck_id: int | None = Query(default=None, ge=1, le=2**63 - 1),
    search: str = Query(default="", max_length=200),
    offset: int = Query(default=0, ge=0, le=1_000_000),
    limit: int = Query(default=20, ge=1, le=100),
) -> CardPageOut:
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
async def get_card(
    request: Request, who: ApiCaller, user: ApiUser, session: Tx, number: RowId
) -> CardEntryOut:
    return CardEntryOut.of(await browse.entry(session, user, number))


@router.patch("/cards/{number}", response_model=CardEntryOut)
async def change_card(
    request: Request, who: ApiCaller, user: ApiUser, session: Tx, number: RowId, body: CardChange
) -> CardEntryOut:
    web = state(request)
    found = await browse.entry(session, user, number)
    if body.front is not None or body.back is not None:
        front = body.front if body.front is not None else found.front
        back = body.back if body.back is not None else found.back
        found = await browse.edit_note(session, user, number, front, back, web.now())
    if body.suspended is not None:
        found = await browse.set_suspended(session, user, number, body.suspended, web.now())
    return CardEntryOut.of(found)


@router.delete("/cards/{number}", status_code=204)
async def delete_card(
    request: Request, who: ApiCaller, user: ApiUser, session: Tx, number: RowId
) -> None:
    """Delete a card (owner only) with every learner's schedule and review log rows for it."""
    await browse.delete_note(session, user, number)


@router.get("/documents", response_model=list[DocumentOut])
async def list_documents(
    request: Request, who: ApiCaller, user: ApiUser, session: Tx
) -> list[DocumentOut]:
    rows = await documents.visible_documents(session, user, None)
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
    request: Request, who: ApiCaller, user: ApiUser, session: Tx, document_id: RowId
) -> None:
    await documents.delete_own_document(session, user, document_id)
