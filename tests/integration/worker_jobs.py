"""Jobs for the worker tests; a real worker imports this module (TEDDY_EXTRA_JOB_MODULES)."""

from __future__ import annotations

import asyncio
import os

from sqlalchemy import text

from core.jobs import JobContext, job
from core.logs import correlation_id

TABLES = (
    "CREATE TABLE IF NOT EXISTS test_job_runs (key text, pid int, correlation_id text)",
    "CREATE TABLE IF NOT EXISTS test_job_done (key text PRIMARY KEY, pid int)",
    # One row per execution that reached its end (test_job_done keeps the result once).
    "CREATE TABLE IF NOT EXISTS test_job_ends (key text, pid int)",
)


@job("test.worker.mark")
async def mark(jc: JobContext, key: str, sleep: float = 0.0) -> None:
    """Record each start, work for `sleep` seconds, then record the result once."""
    async with jc.db.transaction() as session:
        await session.execute(
            text("INSERT INTO test_job_runs VALUES (:key, :pid, :cid)"),
            {"key": key, "pid": os.getpid(), "cid": correlation_id.get()},
        )
    await asyncio.sleep(sleep)
    async with jc.db.transaction() as session:
        await session.execute(
            text("INSERT INTO test_job_done VALUES (:key, :pid) ON CONFLICT DO NOTHING"),
            {"key": key, "pid": os.getpid()},
        )
        await session.execute(
            text("INSERT INTO test_job_ends VALUES (:key, :pid)"),
            {"key": key, "pid": os.getpid()},
        )


@job("test.worker.redis_down")
async def redis_down(jc: JobContext, key: str) -> None:
    async with jc.db.transaction() as session:
        await session.execute(
            text("INSERT INTO test_job_runs VALUES (:key, :pid, NULL)"),
            {"key": key, "pid": os.getpid()},
        )
    raise ConnectionError("Redis went away")


@job("test.worker.bug")
async def bug(jc: JobContext, key: str) -> None:
    raise ValueError(f"a bug in the job for {key}")


@job("test.worker.long_transaction")
async def long_transaction(jc: JobContext, key: str, hold_until: str, timeout: float) -> None:
    """Hold one transaction open until the file `hold_until` exists: a database restart
    meanwhile kills it, whatever the restart's speed; the retry finds the file and commits."""
    async with jc.db.transaction() as session:
        await session.execute(
            text("INSERT INTO test_job_runs VALUES (:key, :pid, NULL)"),
            {"key": key, "pid": os.getpid()},
        )
    async with jc.db.transaction() as session:
        await session.execute(
            text("INSERT INTO test_job_done VALUES (:key, :pid) ON CONFLICT DO NOTHING"),
            {"key": key, "pid": os.getpid()},
        )
        waited = 0.0
        while not await asyncio.to_thread(os.path.exists, hold_until) and waited < timeout:
            await asyncio.sleep(0.2)
            waited += 0.2
