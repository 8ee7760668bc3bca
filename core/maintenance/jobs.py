from __future__ import annotations

import logging
from datetime import timedelta

from core.jobs import JobContext, periodic
from core.maintenance import service

log = logging.getLogger(__name__)


@periodic("maintenance.sweep_processed_events", timedelta(hours=1))
async def sweep_processed_events(jc: JobContext) -> None:
    """Delete old processed event ids, live message ids and dead letters."""
    async with jc.db.transaction() as session:
        deleted = await service.delete_old_bookkeeping(session, jc.services.clock.now())
    if any(deleted.values()):
        log.info("deleted old bookkeeping rows: %s", deleted)
