"""Job throughput and latency: in-process vs one Celery worker on the embedded servers.

    python -m bench.jobs [--jobs 300] [--concurrency 2]

Prints, next to a bare `SELECT 1` round trip: the latency from enqueue to the job's row
being visible, and the throughput of N jobs that each write one row."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from core.chat.context import Services
from core.db import Database
from core.jobs import InlineJobQueue, JobContext, JobQueue, job
from core.settings import Settings
from teddy import migrate
from teddy.servers import start_servers

ROOT = Path(__file__).resolve().parents[1]
TABLE = "CREATE TABLE IF NOT EXISTS bench_jobs (run text, n int, PRIMARY KEY (run, n))"


@job("bench.touch")
async def touch(jc: JobContext, run: str, n: int) -> None:
    async with jc.db.transaction() as session:
        await session.execute(
            text("INSERT INTO bench_jobs VALUES (:run, :n) ON CONFLICT DO NOTHING"),
            {"run": run, "n": n},
        )


async def count(db: Database, run: str) -> int:
    async with db.transaction() as session:
        return int(
            await session.scalar(text("SELECT count(*) FROM bench_jobs WHERE run = :r"), {"r": run})
            or 0
        )


async def select_one(db: Database, rounds: int = 200) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))
    return (time.perf_counter() - started) / rounds


async def latency(db: Database, queue: JobQueue, run: str, samples: int = 20) -> float:
    times = []
    for n in range(samples):
        started = time.perf_counter()
        await queue.enqueue("bench.touch", {"run": run, "n": n})
        while await count(db, run) <= n:  # noqa: ASYNC110 (the row is the signal we measure)
            await asyncio.sleep(0.002)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def throughput(db: Database, queue: JobQueue, run: str, jobs: int) -> float:
    started = time.perf_counter()
    for n in range(jobs):
        await queue.enqueue("bench.touch", {"run": run, "n": n})
    while await count(db, run) < jobs:  # noqa: ASYNC110 (the rows are the signal we measure)
        await asyncio.sleep(0.01)
    return jobs / (time.perf_counter() - started)


def start_worker(
    settings: Settings, database_url: str, redis_url: str, concurrency: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TEDDY_HOME": str(settings.home()),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TEDDY_EXTRA_JOB_MODULES": "bench.jobs",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "teddy", "worker", "-c", str(concurrency)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


async def main(jobs: int, concurrency: int) -> None:
    from workers.app import create_app
    from workers.queue import CeleryJobQueue

    home = Path(tempfile.mkdtemp(prefix="teddy-bench-"))
    settings = Settings(teddy_home=home, _env_file=None)
    servers = await asyncio.to_thread(start_servers, settings)
    worker = None
    try:
        await migrate.upgrade_async(servers.database_url)
        db = Database(servers.database_url)
        async with db.transaction() as session:
            await session.execute(text(TABLE))
        reference = await select_one(db)
        inline = InlineJobQueue()
        inline.bind(JobContext(db, Services(settings=settings)))
        inline_latency = await latency(db, inline, "inline-latency")
        inline_rate = await throughput(db, inline, "inline-rate", jobs)

        worker = start_worker(settings, servers.database_url, servers.redis_url, concurrency)
        app = create_app(settings, database_url=servers.database_url, redis_url=servers.redis_url)
        celery = CeleryJobQueue(app)
        await latency(db, celery, "warm-up", samples=3)  # the worker is ready once one ran
        celery_latency = await latency(db, celery, "celery-latency")
        celery_rate = await throughput(db, celery, "celery-rate", jobs)
        celery.close()
        await db.dispose()

        print(f"reference: SELECT 1 round trip           {reference * 1000:8.2f} ms")
        print(f"inline:  enqueue -> row visible (median)  {inline_latency * 1000:8.2f} ms")
        print(f"inline:  {jobs} jobs                        {inline_rate:8.0f} jobs/s")
        print(f"celery:  enqueue -> row visible (median)  {celery_latency * 1000:8.2f} ms")
        print(f"celery:  {jobs} jobs, 1 worker x {concurrency}          {celery_rate:8.0f} jobs/s")
    finally:
        if worker is not None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
        await asyncio.to_thread(servers.close)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.jobs, args.concurrency))
