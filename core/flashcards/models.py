from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class Deck(Base):
    """A deck belongs to its owner; with `room_id` set it is shared with that room's members,
    each of whom reviews it on their own schedule."""

    __tablename__ = "flashcard_decks"
    __table_args__ = (UniqueConstraint("owner_id", "name_key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    # Lower-cased name: deck names are unique per owner regardless of case.
    name_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Note(Base):
    """What the user wrote: front/back (basic, optionally reversed) or a cloze text. One
    note makes one or more cards."""

    __tablename__ = "flashcard_notes"
    __table_args__ = (UniqueConstraint("deck_id", "content_hash"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    deck_id: Mapped[int] = mapped_column(
        ForeignKey("flashcard_decks.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # basic | reverse | cloze
    front: Mapped[str] = mapped_column(Text)
    back: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(String(500), default="")
    # Hash of kind and text: a second import of the same file adds nothing.
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class FlashCard(Base):
    """One thing to recall: the forward or reverse side of a basic note, or one cloze
    number of a cloze note (`ordinal`)."""

    __tablename__ = "flashcard_cards"
    __table_args__ = (UniqueConstraint("note_id", "ordinal"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("flashcard_notes.id", ondelete="CASCADE"))
    deck_id: Mapped[int] = mapped_column(
        ForeignKey("flashcard_decks.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(SmallInteger)


class CardState(Base):
    """One user's FSRS memory state of one card (fsrs.Card's fields), so a shared deck
    gives every member their own schedule."""

    __tablename__ = "flashcard_states"
    # Seen cards are picked by due date, unseen (new) ones in the order they were added.
    __table_args__ = (
        Index(
            "ix_flashcard_states_seen_due",
            "user_id",
            "deck_id",
            "due",
            postgresql_where="last_review IS NOT NULL",
        ),
        Index(
            "ix_flashcard_states_user_seen_due",
            "user_id",
            "due",
            postgresql_where="last_review IS NOT NULL",
        ),
        Index(
            "ix_flashcard_states_new",
            "user_id",
            "deck_id",
            "card_id",
            postgresql_where="last_review IS NULL",
        ),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    card_id: Mapped[int] = mapped_column(
        ForeignKey("flashcard_cards.id", ondelete="CASCADE"), primary_key=True
    )
    deck_id: Mapped[int] = mapped_column(ForeignKey("flashcard_decks.id", ondelete="CASCADE"))
    state: Mapped[int] = mapped_column(SmallInteger, default=1)  # fsrs.State
    step: Mapped[int | None] = mapped_column(SmallInteger, default=0)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime]
    last_review: Mapped[datetime | None]
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    # A suspended card keeps its schedule but is never picked or counted as due; it is this
    # learner's choice, so suspending a card of a room deck leaves the other members' alone.
    suspended: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")


class ReviewRound(Base):
    """One /review run (a "session" to the student): its review logs make the summary.
    Named a round so it is not confused with the database session."""

    __tablename__ = "flashcard_sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    deck_id: Mapped[int | None] = mapped_column(
        ForeignKey("flashcard_decks.id", ondelete="CASCADE")
    )
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class ReviewLog(Base):
    """One answer, kept so FSRS parameters can be optimised from the user's own history."""

    __tablename__ = "flashcard_reviews"
    __table_args__ = (Index("ix_flashcard_reviews_user_time", "user_id", "reviewed_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    card_id: Mapped[int] = mapped_column(
        ForeignKey("flashcard_cards.id", ondelete="CASCADE"), index=True
    )
    deck_id: Mapped[int] = mapped_column(
        ForeignKey("flashcard_decks.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int | None] = mapped_column(
        "session_id", ForeignKey("flashcard_sessions.id", ondelete="SET NULL"), index=True
    )
    rating: Mapped[int] = mapped_column(SmallInteger)  # fsrs.Rating: 1 Again .. 4 Easy
    reviewed_at: Mapped[datetime]
    # Days since the previous review of this card by this user (None on the first).
    elapsed_days: Mapped[float | None] = mapped_column(Float)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    state_before: Mapped[int] = mapped_column(SmallInteger)
    due_after: Mapped[datetime]


class StudyPrefs(Base):
    """Per-user flashcard settings: current deck, desired retention, FSRS parameters."""

    __tablename__ = "flashcard_prefs"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    current_deck_id: Mapped[int | None] = mapped_column(
        ForeignKey("flashcard_decks.id", ondelete="SET NULL")
    )
    desired_retention: Mapped[float] = mapped_column(Float, default=0.9)
    new_per_day: Mapped[int] = mapped_column(Integer, default=20)
    # None: the fsrs defaults. Set by the optimizer job from the user's review logs.
    parameters: Mapped[list[float] | None] = mapped_column(JSONB)
    optimized_at: Mapped[datetime | None]
    optimized_reviews: Mapped[int] = mapped_column(Integer, default=0)


class GradeUndo(Base):
    """What one review grade changed, kept a short while so `/undo` can put the card's FSRS
    state back exactly and drop the grade's review log row."""

    __tablename__ = "flashcard_undo"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("flashcard_cards.id", ondelete="CASCADE"))
    review_id: Mapped[int] = mapped_column(
        ForeignKey("flashcard_reviews.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int | None] = mapped_column("session_id", BigInteger)
    # The CardState columns as they were before the grade (datetimes as ISO text).
    state_before: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime]
