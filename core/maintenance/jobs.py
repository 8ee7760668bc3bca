from __future__ import annotations

import logging
from datetime import timedelta

from core.jobs import JobContext, periodic
from core.maintenance import pending, service

log = logging.getLogger(__name__)
RELAY = pending.relay_jobs  # registered there, next to the leases it relies on


@periodic("maintenance.sweep_processed_events", timedelta(hours=1))
async def sweep_processed_events(jc: JobContext) -> None:
    """Delete old processed event ids, live message ids and dead letters."""
    async with jc.db.transaction() as session:
        deleted = await service.delete_old_bookkeeping(session, jc.services.clock.now())
    if any(deleted.values()):
        log.info("deleted old bookkeeping rows: %s", deleted)


@periodic("maintenance.sweep_outbox", timedelta(hours=1))
async def sweep_outbox(jc: JobContext) -> None:
    """Delete delivered and dead outbox rows past `OUTBOX_RETENTION_DAYS`, in batches."""
    kept = timedelta(days=jc.services.settings.outbox_retention_days)
    deleted = await service.delete_expired_outbox(jc.db, jc.services.clock.now(), kept)
    if deleted:
        log.info("deleted %d expired outbox rows", deleted)
