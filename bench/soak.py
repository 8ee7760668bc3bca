"""Soak run (not in CI): steady traffic for a long time while memory and open database
connections must stay flat.

    python -m bench.soak --minutes 30                  # the issue's run
    python -m bench.soak --minutes 2 --interval 10     # a smoke run

Students of the load scenario (bench.load) talk to the core at about --rate messages/s (tutor
questions go to the local OpenAI-compatible test server), and
every periodic sweep runs once per interval, as beat would. Every --interval seconds it
samples this process's RSS and the open database connections. It fails (exit 1) when the
median RSS of the last third of the samples exceeds the first third's by more than
--tolerance-mib, or when the median of the connections in the last third exceeds the first
third's maximum, or when any message fails. `python -m bench` does not run it;
`python -m bench --only soak` does."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import random
import statistics
import time

from bench._common import bench_core
from bench._load import Tally, db_connections, rss_mib, run_students
from bench.load import console_sender, student_steps
from core.app import load_jobs
from core.jobs import PERIODIC, JobContext, run_job
from teddy.runtime import Runtime
from tests.support.fake_llm import FakeLLMThread


async def traffic(core: Runtime, rate: float, stop: asyncio.Event, tally: Tally) -> None:
    """Batches of students, paced so the messages average `rate` per second."""
    rng = random.Random(30)
    send = console_sender(core)
    numbers = itertools.count()
    while not stop.is_set():
        # 500 students come back again and again, as a class does.
        batch = [(f"soak{n % 500}", student_steps(n % 500, rng, True)) for n in
                 itertools.islice(numbers, 20)]  # fmt: skip
        messages = sum(len(steps) for _, steps in batch)
        started = time.perf_counter()
        await run_students(batch, send, 10, tally)
        pause = messages / rate - (time.perf_counter() - started)
        if pause > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)


async def sweeps(core: Runtime) -> None:
    context = JobContext(core.db, core.services)
    for name in sorted(PERIODIC):
        await run_job(name, context, {})


async def main(minutes: float, interval: float, rate: float, tolerance_mib: float) -> int:
    logging.disable(logging.WARNING)
    load_jobs()
    samples: list[tuple[float, float, int, int]] = []  # (seconds, RSS MiB, connections, msgs)
    tally = Tally()
    with FakeLLMThread() as llm:
        await soak(llm.base_url, minutes, interval, rate, samples, tally)
    return verdict(samples, tally, tolerance_mib, minutes)


async def soak(
    llm_url: str,
    minutes: float,
    interval: float,
    rate: float,
    samples: list[tuple[float, float, int, int]],
    tally: Tally,
) -> None:
    """Traffic, sweeps and a sample every `interval` seconds, for `minutes`."""
    async with bench_core(llm_base_url=llm_url, llm_model="fake", preload_embedder=True) as core:
        if core.warm_up is not None:
            await core.warm_up  # as a bot process starts: the model is there before traffic
        stop = asyncio.Event()
        runner = asyncio.create_task(traffic(core, rate, stop, tally))
        started = time.perf_counter()
        end = started + minutes * 60
        while time.perf_counter() < end:
            await asyncio.sleep(min(interval, max(0.0, end - time.perf_counter())))
            await sweeps(core)
            sample = (
                time.perf_counter() - started,
                rss_mib(),
                await db_connections(core),
                tally.total,
            )
            samples.append(sample)
            print(
                f"  {sample[0]:7.0f} s  RSS {sample[1]:7.1f} MiB  DB connections {sample[2]:3d}"
                f"  messages {sample[3]:,}  errors {tally.error_count}",
                flush=True,
            )
        stop.set()
        await runner


def verdict(
    samples: list[tuple[float, float, int, int]], tally: Tally, tolerance_mib: float, minutes: float
) -> int:
    if len(samples) < 3:
        print("too few samples for a verdict: run longer or sample more often")
        return 1
    third = max(1, len(samples) // 3)
    first, last = samples[:third], samples[-third:]
    rss_growth = statistics.median(s[1] for s in last) - statistics.median(s[1] for s in first)
    conn_first = max(s[2] for s in first)
    # A sample catching a sweep's extra connection is not growth; a raised median is.
    conn_last = round(statistics.median(s[2] for s in last))
    elapsed = samples[-1][0]
    print(
        f"soak {minutes:g} min: {tally.total:,} messages ({tally.total / elapsed:.1f}/s), "
        f"errors {tally.error_count}, presses skipped {tally.skipped}"
    )
    print(
        f"  RSS median first third {statistics.median(s[1] for s in first):.1f} MiB, "
        f"last third {statistics.median(s[1] for s in last):.1f} MiB: {rss_growth:+.1f} MiB "
        f"(tolerance {tolerance_mib:g} MiB)"
    )
    print(f"  DB connections max first third {conn_first}, median last third {conn_last}")
    for line in tally.table():
        print(line)
    failures = []
    if rss_growth > tolerance_mib:
        failures.append(f"RSS grew {rss_growth:.1f} MiB")
    if conn_last > conn_first:
        failures.append(f"connections grew from {conn_first} to {conn_last}")
    if tally.error_count:
        failures.append(f"{tally.error_count} failed messages: {tally.summary_of_errors()}")
    print(
        "FLAT: memory and connections did not grow"
        if not failures
        else "NOT FLAT: " + "; ".join(failures)
    )
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--interval", type=float, default=30, help="seconds between samples")
    parser.add_argument("--rate", type=float, default=20, help="messages per second")
    parser.add_argument("--tolerance-mib", type=float, default=25)
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.minutes, args.interval, args.rate, args.tolerance_mib)))
