"""`teddy up` as a new user runs it: a fresh data directory, embedded servers, Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from sqlalchemy import text

from core.db import Database
from core.settings import Settings
from teddy.cli_up import free_port
from teddy.supervisor import UpState
from tests.integration import worker_jobs
from workers.app import create_app
from workers.queue import CeleryJobQueue

ROOT = Path(__file__).resolve().parents[2]


def teddy_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return {
        **env,
        "TEDDY_HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "TEDDY_EXTRA_JOB_MODULES": "tests.integration.worker_jobs",
        # The API of each `teddy up` on a port of its own: an API still stopping from the
        # previous test held the default 8000, and the new one crash-looped on it.
        "TEDDY_API_PORT": str(free_port()),
    }


def status(home: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "teddy", "status"],
        env=teddy_env(home),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def wait_until(predicate, timeout: float, what: str, log: Path | None = None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n" + (log.read_text() if log else ""))
        time.sleep(0.5)


@pytest.fixture
def up(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, Path]]:
    # Not under tmp_path: the embedded PostgreSQL runs as another user, who must reach it.
    home = Path(tempfile.mkdtemp(prefix="teddy-up-"))
    log = tmp_path / "up.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "teddy", "up"],
        env=teddy_env(home),
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield process, home, log
    stop_up(process, home)  # the test failed half-way: leave nothing behind
    shutil.rmtree(home, ignore_errors=True)


def stop_up(process: subprocess.Popen[bytes], home: Path, timeout: float = 15) -> None:
    """Ctrl-C to a running `teddy up`; whatever is left after `timeout` is killed."""
    if process.poll() is not None:
        return
    leftovers = everything_of(process, home)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        for proc in leftovers:
            with contextlib.suppress(psutil.Error):
                proc.kill()


def everything_of(process: subprocess.Popen[bytes], home: Path) -> list[psutil.Process]:
    """`teddy up`, its children and grandchildren, and the embedded servers it started."""
    state = UpState.read(home / "run" / "up.json")
    parent = psutil.Process(process.pid)
    found = [parent, *parent.children(recursive=True)]
    for child in state.children if state else []:
        with contextlib.suppress(psutil.Error):
            found.extend(psutil.Process(child.pid).children(recursive=True))
    markers = [str(home / "postgres")]
    if state is not None:
        markers.append(state.redis_url.removeprefix("unix://"))
    for candidate in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(candidate.info["cmdline"] or [])
        if any(marker in cmdline for marker in markers):
            found.append(candidate)
    return list({p.pid: p for p in found}.values())


async def enqueue_a_long_job(state: UpState, key: str) -> None:
    db = Database(state.database_url, pool_size=1)
    async with db.transaction() as session:
        for statement in worker_jobs.TABLES:
            await session.execute(text(statement))
    await db.dispose()
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    app = create_app(settings, database_url=state.database_url, redis_url=state.redis_url)
    queue = CeleryJobQueue(app)
    await queue.enqueue("test.worker.mark", {"key": key, "sleep": 4.0})
    queue.close()  # an open client would keep the embedded Redis from stopping


def rows(state: UpState, table: str, key: str) -> list[object]:
    async def select() -> list[object]:
        db = Database(state.database_url, pool_size=1)
        try:
            async with db.transaction() as session:
                result = await session.execute(
                    text(f"SELECT pid FROM {table} WHERE key = :key"), {"key": key}
                )
                return list(result)
        finally:
            await db.dispose()

    return asyncio.run(select())


def gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_teddy_up_runs_restarts_a_crashed_child_and_stops_everything_on_ctrl_c(
    up: tuple[subprocess.Popen[bytes], Path, Path],
) -> None:
    process, home, log = up

    def started() -> bool:
        assert process.poll() is None, log.read_text()
        report = status(home)
        return "worker     running" in report and "beat       running" in report

    wait_until(started, 180, "teddy up to start", log)
    report = status(home)
    assert f"teddy up: running (pid {process.pid}" in report
    assert "queue teddy: 0 waiting" in report
    assert "failed jobs: 0" in report

    state = UpState.read(home / "run" / "up.json")
    assert state is not None
    key = uuid.uuid4().hex
    asyncio.run(enqueue_a_long_job(state, key))
    wait_until(lambda: bool(rows(state, "test_job_runs", key)), 60, "the job to start", log)
    (worker,) = [c for c in state.children if c.name == "worker"]
    assert worker.pid is not None
    os.killpg(worker.pid, signal.SIGKILL)  # mid-job
    wait_until(lambda: "restarts 1" in status(home), 60, "the worker to be restarted", log)
    assert "worker exited with code -9" in log.read_text()
    # The dead worker's job went straight back to the queue (not after the visibility
    # timeout, 20 minutes by default) and the new worker finished it.
    wait_until(lambda: bool(rows(state, "test_job_done", key)), 60, "the job to finish", log)
    assert len(rows(state, "test_job_runs", key)) == 2
    assert "requeued 1 unfinished job(s)" in log.read_text()
    assert "worker     running" in status(home)

    processes = everything_of(process, home)
    names = sorted(p.name() for p in processes)
    assert len(processes) >= 6, names  # up, worker and its pool, beat, PostgreSQL, Redis
    process.send_signal(signal.SIGINT)
    sigint_at = time.monotonic()
    process.wait(timeout=15)
    assert time.monotonic() - sigint_at < 10, log.read_text()
    assert process.returncode == 0, log.read_text()
    wait_until(lambda: all(gone(p) for p in processes), 2, "every process to be gone")
    assert "teddy up: not running" in status(home)
