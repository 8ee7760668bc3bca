"""The Celery app: one task, `teddy.run_job`, runs any core job by name in a worker-owned
asyncio loop. Jobs are idempotent, so the task is acknowledged late and handed back when a
worker dies; transient errors are retried with backoff; a job that fails for good is kept
as a dead letter (`failed_jobs`, shown by `teddy jobs failed` and `teddy status`)."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import random
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis
from celery import Celery, Task, signals

from core.app import load_jobs
from core.chat.context import Services
from core.clock import SystemClock
from core.db import Database
from core.jobs import PERIODIC, JobContext, JobQueue, run_job
from core.logs import configure_logging, correlation, correlation_id
from core.maintenance import pending
from core.maintenance import service as maintenance
from core.settings import Settings
from workers.config import CORRELATION_HEADER, MAX_DELIVERIES, QUEUE, TASK_NAME, celery_config
from workers.errors import is_transient

log = logging.getLogger(__name__)
RETRY_BACKOFF_BASE = 2.0
RETRY_BACKOFF_MAX = 300.0
_APPS: list[TeddyApp] = []


class JobTimedOut(Exception):
    """The job ran past JOB_TIME_LIMIT and was cancelled (not retried: it would again)."""


class WorkerLostTooOften(Exception):
    """The job's worker died while running it MAX_DELIVERIES times."""


def load_all_jobs(settings: Settings) -> None:
    """Every capability's jobs, plus the modules named in TEDDY_EXTRA_JOB_MODULES."""
    load_jobs()
    for module in filter(None, (m.strip() for m in settings.teddy_extra_job_modules.split(","))):
        importlib.import_module(module)


@dataclass
class WorkerRuntime:
    """What a worker process needs to run jobs; one per process (made after the fork)."""

    pid: int
    loop: asyncio.AbstractEventLoop
    db: Database
    services: Services
    redis: redis.Redis


def _bare_services(app: TeddyApp, jobs: JobQueue) -> Services:
    return Services(settings=app.settings, clock=SystemClock(), jobs=jobs)


class TeddyApp(Celery):  # type: ignore[misc]
    settings: Settings
    database_url: str
    redis_url: str
    # Set by `teddy.bootstrap.celery_app`: the services every process kind gets. The bare
    # default serves processes that only send or inspect jobs.
    services_factory: Callable[[TeddyApp, JobQueue], Services] = staticmethod(_bare_services)
    _runtime: WorkerRuntime | None = None

    def runtime(self) -> WorkerRuntime:
        if self._runtime is None or self._runtime.pid != os.getpid():
            from workers.queue import CeleryJobQueue

            loop = asyncio.new_event_loop()
            db = Database(self.database_url, pool_size=2)
            services = self.services_factory(self, CeleryJobQueue(self))
            client = redis.Redis.from_url(self.redis_url)
            self._runtime = WorkerRuntime(os.getpid(), loop, db, services, client)
        return self._runtime

    def close_runtime(self) -> None:
        runtime, self._runtime = self._runtime, None
        if runtime is not None and runtime.pid == os.getpid():
            close_queue = getattr(runtime.services.jobs, "close", None)
            if close_queue is not None:
                close_queue()
            runtime.loop.run_until_complete(runtime.services.aclose())
            runtime.loop.run_until_complete(runtime.db.dispose())
            runtime.loop.close()
            runtime.redis.close()


def create_app(settings: Settings, *, database_url: str, redis_url: str) -> TeddyApp:
    """The app for these servers, with the beat schedule of every registered sweep."""
    load_all_jobs(settings)
    app = TeddyApp("teddy", set_as_current=False)
    app.settings = settings
    _APPS.append(app)
    app.database_url = database_url
    app.redis_url = redis_url
    app.conf.update(celery_config(settings, redis_url))
    app.conf.beat_schedule = beat_schedule()
    app.task(
        bind=True,
        base=JobTask,
        name=TASK_NAME,
        # The asyncio limit below stops a job cleanly; this one kills a stuck process.
        time_limit=settings.job_time_limit + 60,
    )(run_job_task)
    return app


def beat_schedule() -> dict[str, dict[str, Any]]:
    """One entry per periodic sweep; a run that no worker took before the next is dropped."""
    return {
        name: {
            "task": TASK_NAME,
            "schedule": every,
            "args": (name, {}),
            "options": {"queue": QUEUE, "expires": every.total_seconds()},
        }
        for name, every in sorted(PERIODIC.items())
    }


def retry_countdown(retries: int, base: float = RETRY_BACKOFF_BASE) -> float:
    """Exponential backoff with full jitter: up to base·2^retries seconds, capped."""
    return random.uniform(base / 2, min(RETRY_BACKOFF_MAX, base * 2**retries))


class JobTask(Task):  # type: ignore[misc]
    acks_late = True
    reject_on_worker_lost = True

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        name, job_kwargs = [*args, "?", {}][:2]
        app: TeddyApp = self.app
        runtime = app.runtime()
        cid = _correlation_id(self.request) or correlation_id.get()
        text = "".join(traceback.format_exception(exc)) if einfo is None else str(einfo)
        try:
            runtime.loop.run_until_complete(
                _record_dead_letter(
                    runtime,
                    task_id=task_id,
                    job=str(name),
                    kwargs=job_kwargs if isinstance(job_kwargs, dict) else {},
                    error=f"{type(exc).__name__}: {exc}",
                    traceback=text,
                    attempts=int(getattr(self.request, "retries", 0) or 0) + 1,
                    correlation_id=cid,
                )
            )
        except Exception:
            log.exception("could not record the dead letter of job %s (%s)", name, task_id)
        log.error("job %s failed for good: %s", name, exc, extra={"job": name, "task_id": task_id})


async def _record_dead_letter(runtime: WorkerRuntime, **fields: Any) -> None:
    async with runtime.db.transaction() as session:
        await maintenance.record_failed_job(session, at=runtime.services.clock.now(), **fields)


def _correlation_id(request: Any) -> str | None:
    # Not the AMQP `correlation_id` property: Celery sets that to the task id.
    value = getattr(request, CORRELATION_HEADER, None)
    if not value:
        value = (getattr(request, "headers", None) or {}).get(CORRELATION_HEADER)
    return str(value) if value else None


def run_job_task(
    self: JobTask, name: str, kwargs: dict[str, Any], job_id: int | None = None
) -> None:
    """Run one job. With `job_id` (a recorded pending job) the run holds the job's lease:
    a job done or running elsewhere is skipped, and a failed one is retried or closed."""
    app: TeddyApp = self.app
    runtime = app.runtime()
    retries = int(self.request.retries or 0)
    extra = {"job": name, "task_id": self.request.id, "attempt": retries + 1}
    with correlation(_correlation_id(self.request)):
        _count_delivery(runtime, str(self.request.id), retries)
        log.info("job %s started", name, extra=extra)
        try:
            runtime.loop.run_until_complete(
                _run_with_limit(runtime, name, kwargs, app.settings.job_time_limit, job_id)
            )
        except Exception as exc:
            retry = is_transient(exc) and retries < app.settings.job_max_retries
            if job_id is not None:
                _close_pending(runtime, job_id, retry=retry)
            if retry:
                countdown = retry_countdown(retries, app.settings.job_retry_backoff)
                log.warning(
                    "job %s hit a transient error (%s); retry in %.1fs",
                    name,
                    exc,
                    countdown,
                    extra=extra,
                )
                raise self.retry(exc=exc, countdown=countdown) from exc
            raise
        log.info("job %s done", name, extra=extra)


def _close_pending(runtime: WorkerRuntime, job_id: int, *, retry: bool) -> None:
    """A failed run gives its lease back for the retry, or closes the job for good."""
    close = pending.release if retry else pending.finish
    try:
        runtime.loop.run_until_complete(close(runtime.db, job_id))
    except Exception:
        # The lease then runs out and the relay sends the job again.
        log.warning("could not update pending job #%d", job_id, exc_info=True)


async def _run_with_limit(
    runtime: WorkerRuntime,
    name: str,
    kwargs: dict[str, Any],
    limit: float,
    job_id: int | None = None,
) -> None:
    deadline = asyncio.timeout(limit)
    jc = JobContext(runtime.db, runtime.services)
    try:
        async with deadline:
            if job_id is None:
                await run_job(name, jc, kwargs)
            else:
                await pending.run_leased(jc, job_id, name, kwargs)
    except TimeoutError:
        if deadline.expired():
            raise JobTimedOut(f"job {name} ran longer than {limit:g}s") from None
        raise


def _count_delivery(runtime: WorkerRuntime, task_id: str, retries: int) -> None:
    """Count how often this attempt was handed to a worker; stop a job that kills them."""
    key = f"teddy:deliveries:{task_id}:{retries}"
    try:
        count = int(runtime.redis.incr(key))
        runtime.redis.expire(key, int(timedelta(days=2).total_seconds()))
    except redis.exceptions.RedisError:
        log.warning("could not count deliveries of %s", task_id, exc_info=True)
        return
    if count > MAX_DELIVERIES:
        raise WorkerLostTooOften(f"the worker running this job died {count - 1} times")


def _setup_logging(**_: Any) -> None:
    """Celery leaves logging to us: text or JSON lines, with correlation ids."""
    level = os.environ.get("LOG_LEVEL", "INFO")
    configure_logging(level, os.environ.get("LOG_FORMAT", "text"))


def _close_process_runtime(**_: Any) -> None:
    for app in _APPS:
        app.close_runtime()


signals.setup_logging.connect(_setup_logging, weak=False)
signals.worker_process_shutdown.connect(_close_process_runtime, weak=False)
