"""The daily activity rollup: one row per user per local day, what /stats and the
dashboard read. It is derived data: each capability adds to it where its event happens
(`core.analytics.rollup.record`), and `rebuild` recomputes it from the sources that the
capabilities declare (`activity` in `core.app.capabilities()`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class DailyActivity(Base):
    """`day` is the event's date in the user's time zone (see docs/analytics.md)."""

    __tablename__ = "daily_activity"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    study_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cards_reviewed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cards_kept: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    tasks_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    tasks_added: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reminders_set: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    decks_made: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    documents_added: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    tutor_work: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# The counted columns, in the rollup's order.
MEASURES = (
    "study_minutes",
    "cards_reviewed",
    "cards_kept",
    "tasks_done",
    "tasks_added",
    "reminders_set",
    "decks_made",
    "documents_added",
    "tutor_work",
)
