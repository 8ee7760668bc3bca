"""Shared fixtures: one real PostgreSQL (+pgvector) and Redis per test run.

By default the embedded servers start in a temporary directory. Set TEST_DATABASE_URL
(with pgvector installed) and TEST_REDIS_URL to use servers of your own."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import text

from core.app import load_models
from core.chat.messages import Conversation, Incoming, Reply, Sender
from core.clock import FixedClock
from core.db import Base
from core.settings import Settings
from teddy.runtime import Core, open_core
from teddy.servers import Servers, start_servers
from tests.support.job_failures import JobFailures

pytest_plugins = ["tests.support.ci_skips", "pytester"]

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday


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
) -> AsyncIterator[Core]:
    """The whole core on a clean database (migrated once per run, truncated per test)."""
    global _migrated
    async with open_core(
        settings, clock=clock, servers=servers, run_migrations=not _migrated
    ) as opened:
        _migrated = True
        job_failures.watch(opened.services.jobs)
        await _truncate_all(opened)
        # Rate-limit counters are keyed by user id and the fixed clock's minute: without
        # this, one test's attempts would count against the same ids in the next.
        redis = opened.services.redis
        if isinstance(redis, Redis):
            await redis.flushdb()
        yield opened


_migrated = False


async def _truncate_all(core: Core) -> None:
    load_models()
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with core.db.transaction() as session:
        await session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


class ChatDriver:
    """Talk to the core as one person would, in a DM or a room, and read the replies."""

    def __init__(
        self, core: Core, user: str, room: str | None = None, platform: str = "test"
    ) -> None:
        self.core = core
        self.sender = Sender(platform, user, user.title())
        if room is None:
            self.chat = Conversation(platform, f"dm-{user}", True)
        else:
            self.chat = Conversation(platform, f"room-{room}", False, title=room)

    async def send(self, text: str = "", *, action: str | None = None, **kw: object) -> list[Reply]:
        incoming = Incoming(self.sender, self.chat, text=text, action=action, mentioned=True, **kw)  # type: ignore[arg-type]
        return await self.core.dispatcher.handle(incoming)

    async def say(self, text: str) -> str:
        """Send and return the plain text of all replies joined."""
        return "\n".join(r.plain_text() for r in await self.send(text))

    async def press(self, action: str) -> list[Reply]:
        return await self.send(action=action)


@pytest.fixture
def chat(core: Core) -> ChatDriver:
    return ChatDriver(core, "alice")


@pytest.fixture
def make_chat(core: Core):  # type: ignore[no-untyped-def]
    def make(user: str, room: str | None = None, platform: str = "test") -> ChatDriver:
        return ChatDriver(core, user, room, platform)

    return make
