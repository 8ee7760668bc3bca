"""Helpers shared by the benchmarks: open the core on a throw-away data directory and
report latency percentiles next to the bare database round trip."""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text

from bench.goals import goal_line
from core.settings import Settings
from teddy.runtime import Runtime, open_runtime


@asynccontextmanager
async def bench_core(
    home: Path | None = None, *, preload_embedder: bool = False, **settings: object
) -> AsyncIterator[Runtime]:
    """The whole core on embedded servers in a temporary directory (or DATABASE_URL/REDIS_URL
    from the environment when set). `preload_embedder` loads the local embedding model at
    start-up as the bot and API processes do."""
    with tempfile.TemporaryDirectory(prefix="teddy-bench-") as tmp:
        config = Settings(teddy_home=home or Path(tmp), _env_file=None, **settings)  # type: ignore[arg-type]
        async with open_runtime(config, preload_embedder=preload_embedder) as core:
            yield core


async def select_one_latencies(core: Runtime, count: int = 2000) -> list[float]:
    """Seconds per bare `SELECT 1` on the core's own connection pool: the reference."""
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        async with core.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        samples.append(time.perf_counter() - start)
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def describe(label: str, samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return (
        f"{label:<34} n={len(ms):>6}  p50={percentile(ms, 50):7.2f} ms  "
        f"p99={percentile(ms, 99):7.2f} ms  mean={statistics.fmean(ms):7.2f} ms"
    )


def goal(
    key: str, value: float, *, reference: str = "", size: int | None = None, note: str = ""
) -> None:
    """Print one figure of issue 22's goal table for the runner (see bench/goals.py)."""
    print(goal_line(key, value, reference=reference, size=size, note=note), flush=True)
