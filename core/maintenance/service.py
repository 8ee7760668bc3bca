"""Dead letters and retention of bookkeeping rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import ProcessedEvent
from core.maintenance.models import FailedJob
from core.notify.models import LiveMessage

# Platforms redeliver an event within minutes; a week is far beyond any retry window.
PROCESSED_EVENTS_KEPT = timedelta(days=7)
# A live message older than this is no longer edited (timers and progress end long before).
LIVE_MESSAGES_KEPT = timedelta(days=7)
FAILED_JOBS_KEPT = timedelta(days=30)


async def record_failed_job(
    session: AsyncSession,
    *,
    task_id: str,
    job: str,
    kwargs: dict[str, Any],
    error: str,
    traceback: str,
    attempts: int,
    correlation_id: str | None,
    at: datetime,
) -> None:
    """Keep the dead letter of `task_id` (the latest failure wins if it fails again)."""
    values = {
        "job": job,
        "kwargs": kwargs,
        "error": error[:4000],
        "traceback": traceback[-20000:],
        "attempts": attempts,
        "correlation_id": correlation_id,
        "failed_at": at,
    }
    await session.execute(
        insert(FailedJob)
        .values(task_id=task_id, **values)
        .on_conflict_do_update(index_elements=[FailedJob.task_id], set_=values)
    )


async def failed_jobs(session: AsyncSession, *, limit: int = 50) -> Sequence[FailedJob]:
    """The most recent dead letters first."""
    rows = await session.scalars(
        select(FailedJob).order_by(FailedJob.failed_at.desc(), FailedJob.id.desc()).limit(limit)
    )
    return rows.all()


async def count_failed_jobs(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(FailedJob)) or 0)


async def take_failed_job(session: AsyncSession, failed_id: int) -> FailedJob | None:
    """Remove a dead letter to run it again; None when there is no such row."""
    row = await session.get(FailedJob, failed_id)
    if row is not None:
        await session.delete(row)
    return row


async def delete_old_bookkeeping(session: AsyncSession, now: datetime) -> dict[str, int]:
    """Delete processed event ids, live message ids and dead letters past their retention."""
    deleted: dict[str, int] = {}
    statements = {
        "processed_events": delete(ProcessedEvent).where(
            ProcessedEvent.created_at < now - PROCESSED_EVENTS_KEPT
        ),
        "live_messages": delete(LiveMessage).where(
            LiveMessage.created_at < now - LIVE_MESSAGES_KEPT
        ),
        "failed_jobs": delete(FailedJob).where(FailedJob.failed_at < now - FAILED_JOBS_KEPT),
    }
    for name, statement in statements.items():
        result = await session.execute(statement)
        deleted[name] = int(getattr(result, "rowcount", 0) or 0)
    return deleted
