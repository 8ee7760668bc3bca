from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, Text
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
