"""Background jobs: capabilities register async job functions by name; a `JobQueue` port
runs them (in-process for the console and tests, Celery in production).

Jobs must be idempotent: a job may run twice (a worker killed after the work but before
the acknowledgement), so each one checks the state it is about to change.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from core.chat.context import Services
    from core.db import Database

log = logging.getLogger(__name__)


@dataclass
class JobContext:
    db: Database
    services: Services


JobFunc = Callable[..., Awaitable[None]]
JOBS: dict[str, JobFunc] = {}
# Sweeps run on a schedule (Celery beat, or `teddy jobs run-due` from cron): name -> interval.
PERIODIC: dict[str, timedelta] = {}


def job(name: str) -> Callable[[JobFunc], JobFunc]:
    """Register `async def f(jc: JobContext, **kwargs)` as the job `name`."""

    def register(func: JobFunc) -> JobFunc:
        if name in JOBS and JOBS[name] is not func:
            raise ValueError(f"job {name!r} registered twice")
        JOBS[name] = func
        return func

    return register


def periodic(name: str, every: timedelta) -> Callable[[JobFunc], JobFunc]:
    """Register a sweep: a job without arguments that runs every `every`. Sweeps read the
    time from `jc.services.clock` and must be idempotent (running twice changes nothing)."""

    def register(func: JobFunc) -> JobFunc:
        job(name)(func)
        PERIODIC[name] = every
        return func

    return register


async def run_job(name: str, jc: JobContext, kwargs: dict[str, Any]) -> None:
    try:
        func = JOBS[name]
    except KeyError:
        raise LookupError(f"unknown job {name!r}") from None
    await func(jc, **kwargs)


class JobQueue(Protocol):
    async def enqueue(
        self, name: str, kwargs: dict[str, Any], *, job_id: int | None = None
    ) -> None:
        """Schedule the job to run soon, outside the caller's transaction. With `job_id`
        (a recorded `PendingJob`), the run takes its lease first and skips a job done or
        running elsewhere."""
        ...

    async def reachable(self) -> bool:
        """Whether a job enqueued now would be taken (False: the broker is down)."""
        ...


class InlineJobQueue:
    """Runs jobs as asyncio tasks of this process. `drain()` waits for them."""

    def __init__(self) -> None:
        self.context: JobContext | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.failures: list[tuple[str, BaseException]] = []

    def bind(self, context: JobContext) -> None:
        self.context = context

    async def enqueue(
        self, name: str, kwargs: dict[str, Any], *, job_id: int | None = None
    ) -> None:
        if name not in JOBS:
            raise LookupError(f"unknown job {name!r}")
        if self.context is None:
            raise RuntimeError("InlineJobQueue is not bound to a database yet")
        task = asyncio.create_task(self._run(name, self.context, kwargs, job_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reachable(self) -> bool:
        return True

    async def _run(
        self, name: str, jc: JobContext, kwargs: dict[str, Any], job_id: int | None
    ) -> None:
        from core.maintenance import pending

        try:
            if job_id is None:
                await run_job(name, jc, kwargs)
            else:
                await pending.run_leased(jc, job_id, name, kwargs)
        except Exception as exc:
            log.exception("job %s failed", name)
            self.failures.append((name, exc))
            if job_id is not None:
                await pending.finish(jc.db, job_id)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, timeout: float = 60.0) -> bool:
        """Wait until no job is running (jobs may start more jobs). False on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True


def after_commit(session: AsyncSession, callback: Callable[[], Awaitable[None]]) -> None:
    """Run `callback` once the session's transaction has committed (see Database.transaction);
    dropped if it rolls back. Use it to enqueue jobs that must see the committed rows."""
    session.info.setdefault("after_commit", []).append(callback)


async def enqueue_after_commit(
    session: AsyncSession, queue: JobQueue, name: str, **kwargs: Any
) -> None:
    """Record the job in this transaction and send it once it commits. A queue that is down
    then loses nothing: the relay sweep sends it later (core.maintenance.pending)."""
    from core.maintenance import pending

    if name not in JOBS:
        raise LookupError(f"unknown job {name!r}")
    json.dumps(kwargs)  # fail here, in the caller, on arguments a worker could not read
    job_id = await pending.record(session, name, kwargs)

    async def send() -> None:
        if await pending.send(queue, job_id, name, kwargs):
            return
        try:  # the committed session starts a new transaction of its own
            await pending.mark_unsent(session, job_id)
        except Exception:
            log.warning("job %s #%d waits for the relay's resend interval", name, job_id)

    after_commit(session, send)
