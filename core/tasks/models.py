from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TimestampMixin


class Task(TimestampMixin, Base):
    """A to-do owned by one user, or shared by a room (exactly one of the two)."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (room_id IS NULL)", name="one_owner"),
        Index("uq_tasks_user_number", "user_id", "number", unique=True),
        Index("uq_tasks_room_number", "room_id", "number", unique=True),
        # Open tasks in list order: due (NULLs last), then priority, then number.
        Index(
            "ix_tasks_user_open",
            "user_id",
            "due_at",
            "priority",
            "number",
            postgresql_where="completed_at IS NULL",
        ),
        Index(
            "ix_tasks_room_open",
            "room_id",
            "due_at",
            "priority",
            "number",
            postgresql_where="completed_at IS NULL",
        ),
        Index(
            "ix_tasks_next_remind_at",
            "next_remind_at",
            postgresql_where="next_remind_at IS NOT NULL",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    # The short number shown in lists; never reused within its owner.
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    subject: Mapped[str | None] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(SmallInteger, default=2)
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    completed_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # When the sweep should next remind, and which offset (minutes before due) that is.
    next_remind_at: Mapped[datetime | None]
    next_remind_offset: Mapped[int | None] = mapped_column(Integer)


class TaskCounter(Base):
    """The last short number handed out per owner ("u<id>" or "r<id>")."""

    __tablename__ = "task_counters"

    owner: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Reminder(Base):
    """A one-off `/remind`: a text sent to the user at a time."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_pending", "remind_at", postgresql_where="sent_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    # Set when this reminder is a snoozed task reminder: it says the task's title and
    # offers ✓ Done, and is dropped when the task is done or deleted first.
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    remind_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CalendarToken(Base):
    """A secret that opens a user's iCalendar feed; revoked tokens stay for the record."""

    __tablename__ = "calendar_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]


class DigestState(Base):
    """The local day of the last daily digest per user, so each day sends one."""

    __tablename__ = "task_digests"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_sent_on: Mapped[date] = mapped_column(Date)


class TaskPreferences(Base):
    """A user's own reminder offsets (minutes before the due time), when they set them."""

    __tablename__ = "task_preferences"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    reminder_minutes: Mapped[list[int]] = mapped_column(ARRAY(Integer))


class TaskUndo(Base):
    """A task change `/undo` can take back for a short while: a deletion (with the row as
    it was) or a completion."""

    __tablename__ = "task_undo"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # deleted | done
    task_id: Mapped[int] = mapped_column(BigInteger)
    # The task's columns before the change (datetimes as ISO text).
    before: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime]
