from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base


class FailedJob(Base):
    """A job that failed for good (retries exhausted, or an error retrying cannot fix): the
    dead letter, kept so an operator can see it (`teddy jobs failed`) and run it again."""

    __tablename__ = "failed_jobs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # One row per queued job: a redelivered failure updates it instead of adding a row.
    task_id: Mapped[str] = mapped_column(String(64), unique=True)
    job: Mapped[str] = mapped_column(String(200), index=True)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    error: Mapped[str] = mapped_column(Text)
    traceback: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=1)
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(index=True)


class PendingJob(Base):
    """A job recorded in the transaction that asked for it, so it survives a dead broker or
    a killed process: sent to the queue after the commit, re-sent by the relay sweep until
    one run finishes it. The lease lets exactly one run work on it at a time; a run whose
    worker died loses its lease when the heartbeats stop (see core.maintenance.pending)."""

    __tablename__ = "pending_jobs"
    # The relay scans only unfinished jobs.
    __table_args__ = (
        Index("ix_pending_jobs_unfinished", "id", postgresql_where="done_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    job: Mapped[str] = mapped_column(String(200))
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Last handed to the queue (optimistically, before the send); sends counts them.
    sent_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sends: Mapped[int] = mapped_column(default=1)
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None]
    runs: Mapped[int] = mapped_column(default=0)
    done_at: Mapped[datetime | None] = mapped_column(index=True)
