"""Dead letters and retention of bookkeeping rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database, rows_affected
from core.identity.models import ProcessedEvent
from core.maintenance.models import FailedJob
from core.outbox.models import LiveMessage, OutboxMessage
from core.outbox.service import MAX_ATTEMPTS

# Platforms redeliver an event within minutes; a week is far beyond any retry window.
PROCESSED_EVENTS_KEPT = timedelta(days=7)
# A live message older than this is no longer edited (timers and progress end long before).
LIVE_MESSAGES_KEPT = timedelta(days=7)
FAILED_JOBS_KEPT = timedelta(days=30)
# A live message's update (a focus countdown tick, ingestion progress) is superseded by the
# next one; a day after delivery nobody edits that message any more.
LIVE_UPDATES_KEPT = timedelta(days=1)
# Rows per DELETE, so the sweep never holds long locks or builds one huge transaction.
OUTBOX_BATCH = 5000


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
        deleted[name] = rows_affected(result)
    return deleted


def expired_outbox(now: datetime, kept: timedelta) -> list[ColumnElement[bool]]:
    """The outbox rows past retention, one condition per index-friendly DELETE: delivered
    more than `kept` ago, live-message updates delivered more than a day ago, and dead
    letters (out of attempts) created more than `kept` ago. Pending rows always stay.
    `kept` must outlast every producer's dedupe window (reminders: 12 hours)."""
    return [
        OutboxMessage.delivered_at < now - kept,
        and_(
            OutboxMessage.live_id.is_not(None),
            OutboxMessage.delivered_at < now - LIVE_UPDATES_KEPT,
        ),
        and_(
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.attempts >= MAX_ATTEMPTS,
            OutboxMessage.created_at < now - kept,
        ),
    ]


async def delete_expired_outbox(
    db: Database, now: datetime, kept: timedelta, *, batch: int = OUTBOX_BATCH
) -> int:
    """Delete the expired outbox rows, `batch` rows per transaction; returns how many."""
    deleted = 0
    for condition in expired_outbox(now, kept):
        while True:
            ids = select(OutboxMessage.id).where(condition).limit(batch)
            async with db.transaction() as session:
                result = await session.execute(
                    delete(OutboxMessage).where(OutboxMessage.id.in_(ids.scalar_subquery()))
                )
            count = rows_affected(result)
            deleted += count
            if count < batch:
                break
    return deleted
