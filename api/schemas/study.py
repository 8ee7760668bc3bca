"""Decks, cards and documents."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from api.schemas.accounts import PlainText
from core.flashcards.browse import CardEntry


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


class DeckRename(BaseModel):
    name: PlainText = Field(min_length=1, max_length=100)


class DeckMerge(BaseModel):
    into_deck_id: int = Field(ge=1, le=2**63 - 1)


class MergedOut(BaseModel):
    deck: DeckOut
    moved_cards: int
    duplicates_dropped: int


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
