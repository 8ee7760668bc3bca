from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
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


class Goal(Base):
    """A weekly goal (/goal): a student's own, or a room's shared one (exactly one owner).
    `metric` is "minutes" (studied), "reviews" (cards answered) or "tasks" (done)."""

    __tablename__ = "insight_goals"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (room_id IS NULL)", name="one_owner"),
        CheckConstraint("target > 0", name="positive_target"),
        # NULLs are distinct: a user's goals and a room's goals never collide.
        UniqueConstraint("user_id", "metric"),
        UniqueConstraint("room_id", "metric"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(16))
    target: Mapped[int] = mapped_column(Integer)
    set_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class Badge(Base):
    """A badge a student earned (a streak, a milestone, a week's goal met): kept so each
    is announced once."""

    __tablename__ = "insight_badges"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(60))
    earned_at: Mapped[datetime]


class WeeklyReport(Base):
    """One weekly report claimed for a user and week (the Monday it began, in their zone):
    the key that makes the job send each report once, however often it runs."""

    __tablename__ = "insight_weekly_reports"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    week: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_at: Mapped[datetime]
    # Set once the mail went out (only for verified addresses); never retried.
    mailed_at: Mapped[datetime | None]
