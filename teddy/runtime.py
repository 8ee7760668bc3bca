"""Open the whole core for one process: servers, migrations, database, dispatcher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from core.app import build_router
from core.chat.context import Services
from core.chat.dispatch import Dispatcher
from core.clock import Clock, SystemClock
from core.db import Database
from core.jobs import InlineJobQueue, JobContext, JobQueue
from core.rooms.pubsub import EXTRA_KEY as ROOM_EVENTS
from core.rooms.pubsub import RedisRoomEvents
from core.settings import Settings
from teddy import migrate
from teddy.servers import Servers, start_servers


@dataclass
class Core:
    settings: Settings
    servers: Servers
    db: Database
    services: Services
    dispatcher: Dispatcher


@asynccontextmanager
async def open_core(
    settings: Settings,
    *,
    clock: Clock | None = None,
    jobs: JobQueue | None = None,
    run_migrations: bool = True,
    servers: Servers | None = None,
) -> AsyncIterator[Core]:
    own_servers = servers is None
    if servers is None:
        servers = await asyncio.to_thread(start_servers, settings)
    try:
        if run_migrations:
            await migrate.upgrade_async(servers.database_url)
        db = Database(servers.database_url)
        queue = jobs if jobs is not None else InlineJobQueue()
        services = Services(settings=settings, clock=clock or SystemClock(), jobs=queue)
        room_events = RedisRoomEvents(servers.redis_url)
        services.extra[ROOM_EVENTS] = room_events
        if isinstance(queue, InlineJobQueue):
            queue.bind(JobContext(db, services))
        dispatcher = Dispatcher(db, build_router(), services)
        try:
            yield Core(settings, servers, db, services, dispatcher)
        finally:
            if isinstance(queue, InlineJobQueue):
                await queue.drain(timeout=30)
            await db.dispose()
            await room_events.close()
    finally:
        if own_servers:
            servers.close()
