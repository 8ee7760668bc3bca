"""Open the whole core for one process: servers, migrations, database, dispatcher."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.orm import configure_mappers

from core.app import build_router
from core.chat.context import Services
from core.clock import Clock, SystemClock
from core.db import Database
from core.dispatch.dispatcher import Dispatcher
from core.documents.embeddings import embedder_for, load_blocking, needs_warming
from core.jobs import InlineJobQueue, JobContext, JobQueue
from core.maintenance import pending
from core.settings import Settings
from teddy import migrate
from teddy.bootstrap import build_services, celery_app
from teddy.servers import Servers, start_servers

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """The core of one process, opened by `open_runtime`: settings, servers, database,
    services and dispatcher. Adapters and the web app see it as the port
    `core.dispatch.gateway.Gateway`."""

    settings: Settings
    servers: Servers
    db: Database
    services: Services
    dispatcher: Dispatcher
    # Loading the local embedding model (`preload_embedder`); None when nothing loads.
    warm_up: asyncio.Future[None] | None = None

    @property
    def redis_url(self) -> str:
        return self.servers.redis_url


def _job_queue(settings: Settings, servers: Servers) -> JobQueue:
    """JOB_QUEUE=celery sends jobs to the workers (`teddy up`); inline runs them here."""
    if settings.job_queue == "celery":
        from workers.queue import CeleryJobQueue

        app = celery_app(settings, database_url=servers.database_url, redis_url=servers.redis_url)
        return CeleryJobQueue(app)
    return InlineJobQueue()


def _import_llm_sdk_in_background() -> None:
    """The tutor builds its openai client on the first question (so `teddy chat` starts
    fast); a long-running process imports the SDK meanwhile, so that question does not
    pay the ~0.6 s import."""
    threading.Thread(
        target=importlib.import_module, args=("openai",), name="import-openai", daemon=True
    ).start()


def _start_warm_up(services: Services) -> asyncio.Future[None] | None:
    """Load the local model on a daemon thread: a process told to stop does not wait for a
    load that may take tens of seconds on a busy machine (the executor's threads are
    joined at exit, a daemon thread is not)."""
    embedder = embedder_for(services)
    if not needs_warming(embedder):
        return None
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle() -> None:
        if not done.done():
            done.set_result(None)

    def load() -> None:
        try:
            load_blocking(embedder)
        except Exception:
            log.exception("loading the embedding model failed; the first search tries again")
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle)

    threading.Thread(target=load, name="warm-embedder", daemon=True).start()
    return done


async def _relay_forever(jc: JobContext) -> None:
    while True:
        try:
            await pending.relay(jc)
        except Exception:
            log.exception("relaying pending jobs failed; trying again")
        await asyncio.sleep(pending.RELAY_EVERY.total_seconds())


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    jobs: JobQueue | None = None,
    run_migrations: bool = True,
    servers: Servers | None = None,
    preload_embedder: bool = False,
    relay_jobs: bool = False,
) -> AsyncIterator[Runtime]:
    """The core of one process. Long-running processes (bots, API) pass `preload_embedder`:
    a local embedding model then starts loading in a thread at once, so the first /search
    or tutor question does not wait for it (commands that need it meanwhile wait outside
    their transaction, see `core.errors.WarmUpFirst`). With `relay_jobs` and the inline queue,
    this process also sends again the jobs another process left behind (beat does that
    under Celery), e.g. a document a killed console never read."""
    own_servers = servers is None
    if servers is None:
        servers = await asyncio.to_thread(start_servers, settings)
    try:
        if run_migrations:
            await migrate.upgrade_if_behind(servers.database_url)
        db = Database(servers.database_url)
        queue = jobs if jobs is not None else _job_queue(settings, servers)
        own_queue = jobs is None
        services = build_services(
            settings, redis_url=servers.redis_url, jobs=queue, clock=clock or SystemClock()
        )
        if isinstance(queue, InlineJobQueue):
            queue.bind(JobContext(db, services))
        dispatcher = Dispatcher(db, build_router(), services)
        # Every model is imported now: map them here, at start (the collector may be paused,
        # see teddy.startup), rather than in the first command's query.
        configure_mappers()
        warm_up = _start_warm_up(services) if preload_embedder else None
        if preload_embedder and settings.llm_model:
            _import_llm_sdk_in_background()
        relay = None
        if relay_jobs and isinstance(queue, InlineJobQueue):
            relay = asyncio.create_task(_relay_forever(JobContext(db, services)), name="relay")
        try:
            yield Runtime(settings, servers, db, services, dispatcher, warm_up)
        finally:
            if relay is not None:
                relay.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await relay
            if isinstance(queue, InlineJobQueue):
                await queue.drain(timeout=30)
            close_queue = getattr(queue, "close", None)
            if own_queue and close_queue is not None:
                close_queue()
            await db.dispose()
            await services.aclose()
    finally:
        if own_servers:
            servers.close()
