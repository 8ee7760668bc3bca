"""Real Celery workers (separate processes) against the embedded PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from core.logs import correlation
from core.maintenance import service as maintenance
from teddy.runtime import Core
from teddy.servers import Servers
from tests.integration import worker_jobs
from workers.app import create_app
from workers.inspect import queue_depths
from workers.queue import CeleryJobQueue

ROOT = Path(__file__).resolve().parents[2]
WORKER_ENV = {
    "TEDDY_EXTRA_JOB_MODULES": "tests.integration.worker_jobs",
    "CELERY_VISIBILITY_TIMEOUT": "4",
    "JOB_MAX_RETRIES": "2",
    "JOB_RETRY_BACKOFF": "0.2",
    "JOB_TIME_LIMIT": "60",
}


def worker_env(servers: Servers, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        **WORKER_ENV,
        "PYTHONPATH": str(ROOT),
        "TEDDY_HOME": str(home),
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
    }


StartWorker = Callable[[str], subprocess.Popen[bytes]]


@pytest.fixture
def start_worker(servers: Servers, test_home: Path, tmp_path: Path) -> Iterator[StartWorker]:
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str) -> subprocess.Popen[bytes]:
        logfile = tmp_path / f"{name}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "teddy", "worker", "--concurrency", "1"],
            env=worker_env(servers, test_home),
            cwd=ROOT,
            stdout=logfile.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        deadline = time.monotonic() + 60
        while b" ready." not in logfile.read_bytes():
            assert process.poll() is None, logfile.read_text()
            assert time.monotonic() < deadline, logfile.read_text()
            time.sleep(0.2)
        return process

    yield start
    for process in started:
        kill_group(process, signal.SIGKILL)


def kill_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    process.wait(10)


@pytest.fixture
async def queue(core: Core, servers: Servers) -> AsyncIterator[CeleryJobQueue]:
    os.environ["TEDDY_EXTRA_JOB_MODULES"] = WORKER_ENV["TEDDY_EXTRA_JOB_MODULES"]
    async with core.db.transaction() as session:
        for statement in worker_jobs.TABLES:
            await session.execute(text(statement))
    app = create_app(core.settings, database_url=servers.database_url, redis_url=servers.redis_url)
    queue = CeleryJobQueue(app)
    yield queue
    queue.close()  # an open client would keep the embedded Redis running after the tests


async def wait_for(core: Core, sql: str, params: dict[str, object], timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while True:
        async with core.db.transaction() as session:
            rows = list(await session.execute(text(sql), params))
        if rows or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.2)


async def test_a_job_enqueued_through_celery_runs_in_a_worker_with_the_correlation_id(
    core: Core, queue: CeleryJobQueue, start_worker: StartWorker
) -> None:
    worker = start_worker("w1")
    key = uuid.uuid4().hex
    with correlation("cid-" + key[:8]):
        await queue.enqueue("test.worker.mark", {"key": key})
    done = await wait_for(core, "SELECT pid FROM test_job_done WHERE key = :key", {"key": key})
    assert done, "the job never finished"
    runs = await wait_for(
        core, "SELECT pid, correlation_id FROM test_job_runs WHERE key = :key", {"key": key}
    )
    assert [tuple(r) for r in runs] == [(done[0][0], "cid-" + key[:8])]
    assert done[0][0] != os.getpid()
    assert worker.poll() is None


async def test_a_worker_killed_mid_job_loses_nothing_another_worker_finishes_it_once(
    core: Core, queue: CeleryJobQueue, start_worker: StartWorker
) -> None:
    first = start_worker("first")
    key = uuid.uuid4().hex
    await queue.enqueue("test.worker.mark", {"key": key, "sleep": 3.0})
    started = await wait_for(core, "SELECT pid FROM test_job_runs WHERE key = :key", {"key": key})
    assert started, "the job never started"
    kill_group(first, signal.SIGKILL)  # the whole worker, pool processes included
    async with core.db.transaction() as session:
        done_before = text("SELECT 1 FROM test_job_done WHERE key = :key")
        assert not list(await session.execute(done_before, {"key": key}))
    start_worker("second")
    done = await wait_for(core, "SELECT pid FROM test_job_done WHERE key = :key", {"key": key})
    assert done, "the job was lost with its worker"
    async with core.db.transaction() as session:
        runs = list(
            await session.execute(
                text("SELECT pid FROM test_job_runs WHERE key = :key"), {"key": key}
            )
        )
    assert len(runs) == 2 and runs[0][0] != runs[1][0]
    assert runs[1][0] == done[0][0]


async def test_a_job_failing_with_a_transient_error_is_retried_then_dead_lettered(
    core: Core, queue: CeleryJobQueue, start_worker: StartWorker
) -> None:
    start_worker("w1")
    key = uuid.uuid4().hex
    with correlation("cid-dead"):
        await queue.enqueue("test.worker.redis_down", {"key": key})
    rows = await wait_for(
        core, "SELECT job FROM failed_jobs WHERE kwargs->>'key' = :key", {"key": key}
    )
    assert rows, "no dead letter"
    async with core.db.transaction() as session:
        (failed,) = await maintenance.failed_jobs(session)
        runs = list(
            await session.execute(
                text("SELECT count(*) FROM test_job_runs WHERE key = :key"), {"key": key}
            )
        )
    assert failed.job == "test.worker.redis_down"
    assert failed.attempts == 3 and runs[0][0] == 3  # the first run and 2 retries
    assert "ConnectionError: Redis went away" in failed.error
    assert failed.correlation_id == "cid-dead"
    assert "Traceback" in failed.traceback


async def test_a_job_with_a_bug_is_dead_lettered_without_retrying(
    core: Core, queue: CeleryJobQueue, start_worker: StartWorker
) -> None:
    start_worker("w1")
    key = uuid.uuid4().hex
    await queue.enqueue("test.worker.bug", {"key": key})
    rows = await wait_for(
        core, "SELECT attempts, error FROM failed_jobs WHERE kwargs->>'key' = :key", {"key": key}
    )
    assert rows and rows[0][0] == 1
    assert f"ValueError: a bug in the job for {key}" == rows[0][1]
    depth = queue_depths(queue.app)[0]
    assert (depth.waiting, depth.unacked) == (0, 0)


async def test_enqueueing_an_unknown_job_or_unserialisable_arguments_fails_in_the_caller(
    queue: CeleryJobQueue,
) -> None:
    with pytest.raises(LookupError):
        await queue.enqueue("no.such.job", {})
    with pytest.raises(TypeError):
        await queue.enqueue("test.worker.mark", {"key": object()})
