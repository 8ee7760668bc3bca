"""`teddy up` as deployed: Celery worker and beat, the Telegram and Slack bots in their own
processes against the stand-ins, the fake model, embedded PostgreSQL and Redis. Everything
is driven through the adapters; a worker killed mid-ingestion loses nothing and runs
nothing twice."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.student_flows import kill_the_worker_mid_ingestion, serve_students
from tests.support.up_celery import Up, running_up


@pytest.fixture(scope="module")
async def up(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Up]:
    # A short lease: a dead worker's job is handed on sooner (the default, 30 s, is still
    # within the minute; the test would only wait longer).
    async with running_up(tmp_path_factory.mktemp("up"), {"JOB_LEASE_SECONDS": "6"}) as up:
        yield up


async def test_teddy_up_in_celery_mode_serves_students_through_both_bots(up: Up) -> None:
    await serve_students(up)


async def test_a_worker_killed_mid_ingestion_is_replaced_and_the_document_read_once(
    up: Up,
) -> None:
    await kill_the_worker_mid_ingestion(up)
    assert "worker exited with code -9" in up.log.read_text()
