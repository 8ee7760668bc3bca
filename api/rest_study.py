"""REST routes for the caller's decks (with review statistics and cards) and documents,
over core.flashcards and core.documents; every lookup is scoped there."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.rest import Caller, caller
from api.web import RowId, state
from core.documents import service as documents
from core.flashcards import service as flashcards
from core.flashcards import stats as deck_stats
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


def _days(rows: list[tuple[date, int]]) -> list[DayCount]:
    return [DayCount(day=day, count=count) for day, count in rows]


@router.get("/decks", response_model=list[DeckOut])
async def list_decks(request: Request, who: Caller = Depends(caller)) -> list[DeckOut]:
    web = state(request)
    async with web.transaction() as session:
        rows = await flashcards.list_decks(session, await _user(session, who), web.now())
        return [
            DeckOut(
                id=d.id,
                name=d.name,
                owned=d.owned,
                room_id=d.room_id,
                room_title=d.room_title,
                cards=d.cards,
                due=d.due,
                new=d.new,
            )
            for d in rows
        ]


@router.get("/decks/{deck_id}/stats", response_model=DeckStatsOut)
async def get_deck_stats(
    request: Request,
    deck_id: RowId,
    days: int = Query(default=30, ge=1, le=365),
    who: Caller = Depends(caller),
) -> DeckStatsOut:
    web = state(request)
    async with web.transaction() as session:
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
    deck_id: RowId,
    offset: int = Query(default=0, ge=0, le=1_000_000),
    limit: int = Query(default=50, ge=1, le=500),
    who: Caller = Depends(caller),
) -> list[CardOut]:
    async with state(request).transaction() as session:
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


@router.get("/documents", response_model=list[DocumentOut])
async def list_documents(request: Request, who: Caller = Depends(caller)) -> list[DocumentOut]:
    async with state(request).transaction() as session:
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
    request: Request, document_id: RowId, who: Caller = Depends(caller)
) -> None:
    async with state(request).transaction() as session:
        await documents.delete_own_document(session, await _user(session, who), document_id)
