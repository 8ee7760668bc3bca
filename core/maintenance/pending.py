"""Jobs that survive a dead broker and a killed worker.

`core.jobs.enqueue_after_commit` records a `PendingJob` in the caller's transaction and
sends it once that commits. Whoever runs it first takes a lease (`claim`) and renews it
while it works; a run finds the job done, or leased by a live run, and skips it. The relay
sweep re-sends what was never started (the broker was down, the process died before the
send) and what lost its lease (its worker died), so no job waits for a broker's own
redelivery and none runs twice at once. Times are PostgreSQL's `now()`, one clock for every
process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.jobs import JobContext, periodic, run_job
from core.maintenance.models import PendingJob

if TYPE_CHECKING:
    from core.db import Database
    from core.jobs import JobQueue

log = logging.getLogger(__name__)

# A job handed to the queue but not started is sent again after this (doubling per send, up
# to RESEND_MAX): its message was lost, or a long queue holds it (a duplicate is skipped).
RESEND_AFTER = timedelta(seconds=60)
RESEND_MAX = timedelta(minutes=30)
RELAY_BATCH = 500
DONE_KEPT = timedelta(days=2)
RELAY_EVERY = timedelta(seconds=15)


async def record(session: AsyncSession, name: str, kwargs: dict[str, Any]) -> int:
    """Record the job in the caller's transaction; returns its id."""
    row = PendingJob(job=name, kwargs=kwargs, sends=1, runs=0)
    session.add(row)
    await session.flush()
    return row.id


async def send(queue: JobQueue, job_id: int, name: str, kwargs: dict[str, Any]) -> bool:
    """Hand the job to the queue; False (logged) when the queue is unreachable: the job is
    kept and the relay sends it when the queue is back."""
    try:
        await queue.enqueue(name, kwargs, job_id=job_id)
    except Exception as err:
        log.warning(
            "job %s #%d stays pending, the queue is unreachable (%s: %s); the relay sends it",
            name,
            job_id,
            type(err).__name__,
            err,
        )
        return False
    return True


async def mark_unsent(session: AsyncSession, job_id: int) -> None:
    """The send after commit failed (the queue is down): the next relay sends the job,
    without first waiting out RESEND_AFTER as for a job the queue took."""
    async with session.begin():
        await session.execute(
            update(PendingJob)
            .where(PendingJob.id == job_id, PendingJob.done_at.is_(None))
            .values(sends=0)
        )


async def claim(db: Database, job_id: int, lease: timedelta) -> str | None:
    """Take the job's lease; its token, or None when the job is done or a live run holds it."""
    token = uuid.uuid4().hex
    async with db.transaction() as session:
        claimed = await session.scalar(
            update(PendingJob)
            .where(
                PendingJob.id == job_id,
                PendingJob.done_at.is_(None),
                or_(PendingJob.lease_until.is_(None), PendingJob.lease_until < func.now()),
            )
            .values(lease_token=token, lease_until=func.now() + lease, runs=PendingJob.runs + 1)
            .returning(PendingJob.id)
        )
    return token if claimed is not None else None


async def renew(db: Database, job_id: int, token: str, lease: timedelta) -> bool:
    """Extend the lease; False when it was lost (it ran out and another run took the job)."""
    async with db.transaction() as session:
        renewed = await session.scalar(
            update(PendingJob)
            .where(PendingJob.id == job_id, PendingJob.lease_token == token)
            .values(lease_until=func.now() + lease)
            .returning(PendingJob.id)
        )
    return renewed is not None


async def finish(db: Database, job_id: int) -> None:
    """The job ran (or failed for good): never run it again."""
    async with db.transaction() as session:
        await session.execute(
            update(PendingJob)
            .where(PendingJob.id == job_id, PendingJob.done_at.is_(None))
            .values(done_at=func.now(), lease_token=None, lease_until=None)
        )


async def release(db: Database, job_id: int) -> None:
    """Give the lease back for a retry that the queue will deliver (counts as a send)."""
    async with db.transaction() as session:
        await session.execute(
            update(PendingJob)
            .where(PendingJob.id == job_id, PendingJob.done_at.is_(None))
            .values(lease_token=None, lease_until=None, sent_at=func.now())
        )


async def run_leased(jc: JobContext, job_id: int, name: str, kwargs: dict[str, Any]) -> bool:
    """Run the job under its lease, renewing it meanwhile. False when skipped (done, or
    another run holds it) or when this run stalled so long that its lease ran out and
    another run took the job over (this one then stops). The caller calls `finish` or
    `release` when it raises."""
    lease = timedelta(seconds=jc.services.settings.job_lease_seconds)
    token = await claim(jc.db, job_id, lease)
    if token is None:
        log.info("job %s #%d skipped: done, or running elsewhere", name, job_id)
        return False
    work = asyncio.create_task(run_job(name, jc, kwargs))
    heartbeat = asyncio.create_task(_heartbeat(jc.db, job_id, token, lease, work))
    try:
        await work
    except asyncio.CancelledError:
        if not (heartbeat.done() and not heartbeat.cancelled() and heartbeat.result()):
            raise
        log.warning("job %s #%d lost its lease to another run; this one stopped", name, job_id)
        return False
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
        if not work.done():
            work.cancel()
    await finish(jc.db, job_id)
    return True


async def _heartbeat(
    db: Database, job_id: int, token: str, lease: timedelta, work: asyncio.Task[None]
) -> bool:
    """Renew until cancelled; True (and the work cancelled) when the lease was lost."""
    while True:
        await asyncio.sleep(lease.total_seconds() / 3)
        try:
            if not await renew(db, job_id, token, lease):
                work.cancel()
                return True
        except Exception:
            log.warning("could not renew the lease of job #%d", job_id, exc_info=True)


def _due(resend_after: timedelta) -> Any:
    """Unfinished jobs to send again: never handed to the queue (`sends` 0), the lease of
    their run ran out, or they were sent but not started for longer than the resend
    interval (doubled per send)."""
    backoff = func.least(
        func.power(2, PendingJob.sends - 1) * resend_after.total_seconds(),
        RESEND_MAX.total_seconds(),
    )
    return and_(
        PendingJob.done_at.is_(None),
        or_(
            PendingJob.lease_until < func.now(),
            and_(PendingJob.lease_until.is_(None), PendingJob.sends == 0),
            and_(
                PendingJob.lease_until.is_(None),
                PendingJob.sent_at < func.now() - func.make_interval(0, 0, 0, 0, 0, 0, backoff),
            ),
        ),
    )


async def relay(jc: JobContext, resend_after: timedelta = RESEND_AFTER) -> int:
    """Send again every job that needs it; returns how many were handed to the queue. The
    rows stay locked while they are sent (another relay skips them), and only those the
    queue took count as sent: while the broker is down nothing backs off."""
    async with jc.db.transaction() as session:
        rows = (
            await session.execute(
                select(PendingJob.id, PendingJob.job, PendingJob.kwargs)
                .where(_due(resend_after))
                .order_by(PendingJob.id)
                .limit(RELAY_BATCH)
                .with_for_update(skip_locked=True)
            )
        ).all()
        sent: list[int] = []
        for row in rows:
            if not await send(jc.services.jobs, row.id, row.job, dict(row.kwargs)):
                break  # the queue is down: the rest wait for the next relay
            sent.append(row.id)
        if sent:
            await session.execute(
                update(PendingJob)
                .where(PendingJob.id.in_(sent))
                .values(sent_at=func.now(), sends=PendingJob.sends + 1)
            )
        await session.execute(delete(PendingJob).where(PendingJob.done_at < func.now() - DONE_KEPT))
    if sent:
        log.info("relayed %d pending job(s)", len(sent))
    return len(sent)


async def unfinished(session: AsyncSession, name: str, match: Callable[[Any], Any]) -> bool:
    """Whether an unfinished job `name` whose kwargs satisfy `match` exists."""
    found = await session.scalar(
        select(PendingJob.id)
        .where(PendingJob.job == name, PendingJob.done_at.is_(None), match(PendingJob.kwargs))
        .limit(1)
    )
    return found is not None


@periodic("maintenance.relay_jobs", RELAY_EVERY)
async def relay_jobs(jc: JobContext) -> None:
    """Send again the jobs a dead broker, process or worker left behind."""
    await relay(jc)
