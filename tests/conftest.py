"""Shared fixtures: one real PostgreSQL (+pgvector) and Redis per test run, and per
pytest-xdist worker when the run is spread over several (`-n`).

By default the embedded servers start in a temporary directory (each worker its own). Set
TEST_DATABASE_URL (with pgvector installed) and TEST_REDIS_URL to use servers of your own;
every test empties their tables, so such a run takes one process (`-n 0`)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis

from core.clock import FixedClock
from core.settings import Settings
from teddy.runtime import Runtime, open_runtime
from teddy.servers import Servers, start_servers
from tests.support.chat_driver import ChatDriver
from tests.support.clean_tables import empty_every_table
from tests.support.job_failures import JobFailures

pytest_plugins = ["tests.support.ci_skips", "tests.support.xdist_groups", "pytester"]

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday


def pytest_configure(config: pytest.Config) -> None:
    own_servers = os.environ.get("TEST_DATABASE_URL") or os.environ.get("TEST_REDIS_URL")
    if own_servers and config.getoption("numprocesses", None) not in (None, 0):
        raise pytest.UsageError(
            "TEST_DATABASE_URL and TEST_REDIS_URL are one set of servers, and each worker "
            "empties their tables before every test: run them with -n 0"
        )


@pytest.fixture(scope="session")
def test_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="teddy-test-"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(test_home: Path) -> Settings:
    return Settings(
        teddy_home=test_home,
        database_url=os.environ.get("TEST_DATABASE_URL"),
        redis_url=os.environ.get("TEST_REDIS_URL"),
        secret_key="test-secret-key-not-for-production",
        _env_file=None,
    )


@pytest.fixture(scope="session")
def servers(settings: Settings) -> Iterator[Servers]:
    with start_servers(settings) as running:
        yield running


@pytest.fixture(autouse=True)
def job_failures() -> Iterator[JobFailures]:
    """Every test fails when a job of a queue it watched failed and the test did not take
    the failure (`job_failures.take()`). Set up before `core`, so checked after `core` has
    drained its queue."""
    failures = JobFailures()
    yield failures
    failures.check()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
async def core(
    settings: Settings, servers: Servers, clock: FixedClock, job_failures: JobFailures
) -> AsyncIterator[Runtime]:
    """The whole core on a clean database (migrated once per run, emptied per test)."""
    global _migrated
    async with open_runtime(
        settings, clock=clock, servers=servers, run_migrations=not _migrated
    ) as opened:
        _migrated = True
        job_failures.watch(opened.services.jobs)
        await empty_every_table(opened)
        # Rate-limit counters are keyed by user id and the fixed clock's minute: without
        # this, one test's attempts would count against the same ids in the next.
        redis = opened.services.redis
        if isinstance(redis, Redis):
            await redis.flushdb()
        yield opened


_migrated = False


@pytest.fixture
def chat(core: Runtime) -> ChatDriver:
    return ChatDriver(core, "alice")


@pytest.fixture
def make_chat(core: Runtime):  # type: ignore[no-untyped-def]
    def make(user: str, room: str | None = None, platform: str = "test") -> ChatDriver:
        return ChatDriver(core, user, room, platform)

    return make
