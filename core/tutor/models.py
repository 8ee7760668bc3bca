"""Tutor conversations (per user per chat), their messages, quizzes and daily usage."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TimestampMixin


class TutorConversation(TimestampMixin, Base):
    """One conversation of one user in one chat; `/newchat` closes it and starts another.
    `summary` covers every message with id <= `summarized_upto`."""

    __tablename__ = "tutor_conversations"
    __table_args__ = (Index("ix_tutor_conversations_user_chat", "user_id", "chat_key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    chat_key: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    summarized_upto: Mapped[int] = mapped_column(BigInteger, default=0)
    closed_at: Mapped[datetime | None]


class TutorMessage(Base):
    __tablename__ = "tutor_messages"
    __table_args__ = (Index("ix_tutor_messages_conversation_id_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("tutor_conversations.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(16))  # user | assistant
    content: Mapped[str] = mapped_column(Text)
    tokens: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class TutorQuiz(TimestampMixin, Base):
    """A quiz in progress: `questions` is [{"question", "answer"}], `results` one
    {"correct", "feedback"} per answered question."""

    __tablename__ = "tutor_quizzes"
    __table_args__ = (Index("ix_tutor_quizzes_user_chat", "user_id", "chat_key"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_key: Mapped[str] = mapped_column(String(300))
    topic: Mapped[str] = mapped_column(String(300))
    difficulty: Mapped[str] = mapped_column(String(16))
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    finished_at: Mapped[datetime | None]


class TutorUsage(Base):
    """Tokens and requests per user per UTC day (accounting and the daily budget)."""

    __tablename__ = "tutor_usage"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    tokens_in: Mapped[int] = mapped_column(BigInteger, default=0)
    tokens_out: Mapped[int] = mapped_column(BigInteger, default=0)


class TutorCardDraft(TimestampMixin, Base):
    """Cards the model wrote for `/cards from`, waiting for the student's approval.
    `status`: pending | approved | discarded."""

    __tablename__ = "tutor_card_drafts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(300))
    cards: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default="pending")


class TutorToolProposal(TimestampMixin, Base):
    """A change the model asked a tool to make (a task, a reminder, cards), waiting for
    the asker's Confirm. `arguments` are checked and resolved (absolute UTC times), so
    what runs is what was shown in `summary`. `status`: pending | done | cancelled |
    failed | expired."""

    __tablename__ = "tutor_tool_proposals"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    tool: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSONB)
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    result: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
