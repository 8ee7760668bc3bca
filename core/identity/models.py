from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Time, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, TimestampMixin


class User(TimestampMixin, Base):
    """A person. All their identities on every platform point here."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    locale: Mapped[str] = mapped_column(String(16), default="en")
    quiet_start: Mapped[time | None] = mapped_column(Time, default=time(22, 0))
    quiet_end: Mapped[time | None] = mapped_column(Time, default=time(7, 0))
    digest_time: Mapped[time | None] = mapped_column(Time, default=None)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    # Set once the address is proven (a link sent to it, or Google's verified claim); only a
    # verified address lets another sign-in method (Google) find this account.
    email_verified_at: Mapped[datetime | None]

    identities: Mapped[list[Identity]] = relationship(back_populates="user")


class Identity(TimestampMixin, Base):
    """One platform account (Telegram user, Discord user, Slack user, console user, Google)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    # Where a direct message to this account goes (Telegram chat id, Discord DM channel...),
    # or the address an adapter opens a direct chat from (`Sender.direct_address`).
    dm_chat_id: Mapped[str | None] = mapped_column(String(200))
    last_seen_at: Mapped[datetime] = mapped_column(server_default=func.now())
    unreachable: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(back_populates="identities")


class Room(TimestampMixin, Base):
    """A group chat, channel or thread on one platform where people study together."""

    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")


class Membership(TimestampMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("room_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")


class LinkedChat(Base):
    """A chat that joined another chat's room (`/room join <code>`): everything said there
    acts on `room_id`, whose things (focus sessions, tasks, decks, documents, study time)
    every linked chat shares. The chat keeps its own `Room` row (`chat_room_id`) for where
    messages go; what it had before linking waits there until it is unlinked."""

    __tablename__ = "linked_chats"
    __table_args__ = (CheckConstraint("chat_room_id <> room_id", name="not_itself"),)

    chat_room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    linked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ProcessedEvent(Base):
    """A platform event id already handled; inserted in the handler's own transaction so
    a redelivered event is skipped, and a failed one can be retried."""

    __tablename__ = "processed_events"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
