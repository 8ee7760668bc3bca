from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TimestampMixin

# Where a study session's minutes came from.
SOURCES = ("focus", "voice", "manual")
SUBJECT_MAX = 40


class StudySession(Base):
    """A stretch of studying by one person: a group focus session, time in a study voice
    channel, or logged by hand. Feeds /stats, /leaderboard and the dashboard."""

    __tablename__ = "study_sessions"
    __table_args__ = (
        # A focus session logs each participant once, however often the sweep runs.
        UniqueConstraint("focus_session_id", "user_id"),
        Index("ix_study_sessions_user_started", "user_id", "started_at"),
        Index("ix_study_sessions_room_started", "room_id", "started_at"),
        Index(
            "ix_study_sessions_open_voice",
            "user_id",
            postgresql_where=text("ended_at IS NULL AND source = 'voice'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="SET NULL"))
    focus_session_id: Mapped[int | None] = mapped_column(
        ForeignKey("focus_sessions.id", ondelete="SET NULL")
    )
    source: Mapped[str] = mapped_column(String(16))
    # What was studied (`#chem`), as the person typed it, lower-cased; None when not said.
    subject: Mapped[str | None] = mapped_column(String(SUBJECT_MAX))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # Open voice sessions: the last time the adapter saw the person in the channel.
    last_seen_at: Mapped[datetime | None]
    minutes: Mapped[int] = mapped_column(default=0)


class FocusSession(TimestampMixin, Base):
    """A pomodoro: a group one in a room, or a solo one (`user_id`, no room) in a person's
    direct chat. Its timer lives here (phase and end time), so any process's sweep can
    advance it after a restart."""

    __tablename__ = "focus_sessions"
    __table_args__ = (
        Index(
            "ix_focus_sessions_one_running_per_room",
            "room_id",
            unique=True,
            postgresql_where=text("phase <> 'done'"),
        ),
        Index(
            "ix_focus_sessions_one_running_per_user",
            "user_id",
            unique=True,
            postgresql_where=text("phase <> 'done' AND user_id IS NOT NULL"),
        ),
        CheckConstraint("(room_id IS NULL) <> (user_id IS NULL)", name="room_or_user"),
        Index(
            "ix_focus_sessions_due",
            "next_update_at",
            postgresql_where=text("phase <> 'done'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    # A solo session's person (its room_id is None).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject: Mapped[str | None] = mapped_column(String(SUBJECT_MAX))
    started_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    focus_minutes: Mapped[int]
    break_minutes: Mapped[int]
    phase: Mapped[str] = mapped_column(String(8))  # focus | break | done
    # Bumped on every phase change; part of the outbox dedupe keys.
    phase_no: Mapped[int] = mapped_column(default=1)
    started_at: Mapped[datetime]
    phase_ends_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    stopped: Mapped[bool] = mapped_column(default=False)
    # Set while paused (solo sessions): the sweep leaves it alone and Resume moves the
    # phase's end by the time spent paused.
    paused_at: Mapped[datetime | None]
    # When the sweep next has to look at it: the phase's end or the next countdown tick.
    next_update_at: Mapped[datetime]


class FocusParticipant(Base):
    __tablename__ = "focus_participants"
    __table_args__ = (UniqueConstraint("focus_session_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    focus_session_id: Mapped[int] = mapped_column(
        ForeignKey("focus_sessions.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    first_joined_at: Mapped[datetime]
    # Set while the person is in; None after they left.
    joined_at: Mapped[datetime | None]
    last_left_at: Mapped[datetime | None]
    # Focus time banked from earlier stints (break time never counts).
    focus_seconds: Mapped[int] = mapped_column(default=0)


class RoomSettings(Base):
    """What a room's admins configured."""

    __tablename__ = "room_settings"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    # Discord: time in this voice channel counts as study time.
    study_voice: Mapped[bool] = mapped_column(default=False)
    # Linked rooms: `/say <text>` is relayed to the other linked chats (off by default).
    relay: Mapped[bool] = mapped_column(default=False, server_default=text("false"))


class RoomLinkCode(Base):
    """A one-time code from `/room link`: a chat elsewhere joins `room_id` with it until
    `expires_at`. Only its hash is kept (the code is a credential)."""

    __tablename__ = "room_link_codes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
