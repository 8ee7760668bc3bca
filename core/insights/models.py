from __future__ import annotations

from datetime import datetime

from sqlalchemy import ARRAY, BigInteger, Boolean, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class Exam(Base):
    """An exam the student named with /exam: what it is and when (stored in UTC)."""

    __tablename__ = "insight_exams"
    __table_args__ = (Index("ix_insight_exams_user_starts", "user_id", "starts_at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    # An optional #subject; it names the decks to be ready in, next to the title's words.
    subject: Mapped[str | None] = mapped_column(String(40))
    starts_at: Mapped[datetime]
    # False when only a day was given: the time is then a placeholder, never shown.
    time_given: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class StudyHours(Base):
    """The minutes a student can study on each weekday, Monday first (/hours)."""

    __tablename__ = "insight_study_hours"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    minutes: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
