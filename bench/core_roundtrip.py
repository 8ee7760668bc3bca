"""Commands through the whole core (router, identity, transaction) against the real database.

    python -m bench.core_roundtrip [--commands 10000] [--users 200] [--concurrency 20]

Prints SQL statements and transactions per command for a few everyday commands, then
p50/p99 latency and commands/s for `/settings` under load, next to a bare `SELECT 1` round
trip on the same connection pool; then the same at 4 concurrent, and the CPU a command costs
this process and the PostgreSQL server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import time
from itertools import count

import psutil
from sqlalchemy import text

from bench._common import bench_core, describe, goal, percentile, select_one_latencies
from core.chat.messages import Conversation, Incoming, Sender
from core.db.counting import counting
from core.jobs import InlineJobQueue
from teddy.runtime import Runtime

# Each counted after one warm-up run by the same user, so first-use work (creating the
# user, preparing statements) is not in the figure.
COUNTED_COMMANDS = ("/settings", "/help", "/tasks", "/task x tomorrow", "/decks")
COUNT_RUNS = 20
STATEMENT_BUDGET = 4  # issue 22: a simple command
_event_ids = count()
# Backends report their statistics at most once a second, and within a second of idling.
STATS_DELAY_SECONDS = 2.5
LIGHT_CONCURRENCY = 4


def _incoming(sender: Sender, message: str) -> Incoming:
    chat = Conversation("bench", sender.external_id, True)
    return Incoming(sender, chat, message, event_id=f"e{next(_event_ids)}")


async def statements_per_command(core: Runtime) -> list[str]:
    """One line per command: statements, transactions and pool checkouts per message,
    background jobs it enqueues included (run inline and waited for)."""
    lines = []
    queue = core.services.jobs
    for command in COUNTED_COMMANDS:
        sender = Sender("bench", f"count-{command}", "Counted")
        await core.dispatcher.handle(_incoming(sender, command))
        with counting(core.db.engine) as counted:
            for _ in range(COUNT_RUNS):
                await core.dispatcher.handle(_incoming(sender, command))
                if isinstance(queue, InlineJobQueue):
                    await queue.drain()
        lines.append(
            f"{command:<20} {counted.statements / COUNT_RUNS:5.1f} statements  "
            f"{counted.transactions / COUNT_RUNS:4.1f} transactions  "
            f"{counted.checkouts / COUNT_RUNS:4.1f} checkouts per command"
        )
        if command == "/settings":
            goal(
                "settings_statements",
                round(counted.statements / COUNT_RUNS, 2),
                note=f"{counted.transactions / COUNT_RUNS:.1f} transactions per command",
            )
    return lines


async def server_transactions(core: Runtime) -> int:
    """Transactions PostgreSQL has counted in this database (committed and rolled back),
    after giving every backend time to report its statistics."""
    await asyncio.sleep(STATS_DELAY_SECONDS)
    async with core.db.engine.connect() as conn:
        await conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        total = await conn.scalar(
            text(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database "
                "WHERE datname = current_database()"
            )
        )
        await conn.rollback()
    return int(total or 0)


def _postgres_cpu_seconds(backend_pid: int | None) -> float | None:
    """CPU seconds the local PostgreSQL server has used so far (its backends, live and
    exited); None when the server is not on this machine."""
    if backend_pid is None:
        return None
    try:
        server = psutil.Process(backend_pid).parent()
        if server is None:
            return None
        own = server.cpu_times()
        total: float = own.user + own.system + own.children_user + own.children_system
        for child in server.children():
            with contextlib.suppress(psutil.Error):
                times = child.cpu_times()
                total += times.user + times.system
    except psutil.Error:
        return None
    return total


async def _backend_pid(core: Runtime) -> int | None:
    async with core.db.engine.connect() as conn:
        pid = await conn.scalar(text("SELECT pg_backend_pid()"))
        await conn.rollback()
    return None if pid is None else int(pid)


async def settings_load(
    core: Runtime, senders: list[Sender], commands: int, concurrency: int
) -> tuple[list[float], float]:
    """`commands` /settings from `concurrency` tasks at once: each command's seconds and
    the seconds the whole load took."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(commands):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            incoming = _incoming(senders[i % len(senders)], "/settings")
            start = time.perf_counter()
            replies = await core.dispatcher.handle(incoming)
            latencies.append(time.perf_counter() - start)
            assert replies and "time zone" in replies[0].plain_text()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


async def cpu_split(core: Runtime, senders: list[Sender], commands: int, concurrency: int) -> str:
    """Where a /settings command's CPU goes: this process (the core) and the PostgreSQL
    server, which share the machine's cores; the ceiling one process can reach is
    1 / (its CPU per command)."""
    pid = await _backend_pid(core)
    server_before = _postgres_cpu_seconds(pid)
    process_before = time.process_time()
    await settings_load(core, senders, commands, concurrency)
    process_ms = (time.process_time() - process_before) / commands * 1000
    server_after = _postgres_cpu_seconds(pid)
    server = (
        "PostgreSQL not on this machine"
        if server_before is None or server_after is None
        else f"PostgreSQL {(server_after - server_before) / commands * 1000:.3f} ms"
    )
    return (
        f"CPU per /settings at c={concurrency}: this process {process_ms:.3f} ms "
        f"(ceiling {1000 / process_ms:,.0f} commands/s on one core), {server}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )


async def main(commands: int, users: int, concurrency: int) -> None:
    logging.disable(logging.WARNING)
    async with bench_core() as core:
        reference = await select_one_latencies(core)
        counted = await statements_per_command(core)
        senders = [Sender("bench", f"u{i}", f"User {i}") for i in range(users)]
        # Warm up: every user exists before timing starts.
        for sender in senders:
            await core.dispatcher.handle(
                Incoming(sender, Conversation("bench", sender.external_id, True), "/start")
            )
        server_before = await server_transactions(core)
        with counting(core.db.engine) as load:
            latencies, elapsed = await settings_load(core, senders, commands, concurrency)
        server_during = await server_transactions(core) - server_before - 1
        # Little's law: at c=20 a p99 of 10 ms needs > 2,000 commands/s; c=4 shows the
        # latency of a command when the CPU is not the queue.
        light, _ = await settings_load(core, senders, commands // 2, LIGHT_CONCURRENCY)
        split = await cpu_split(core, senders, commands // 2, concurrency)
        print(describe(f"/settings, {users} users, c={LIGHT_CONCURRENCY}", light))
        print(split)
        print(f"machine: {platform.machine()}, python {platform.python_version()}")
        print(f"SQL per command ({COUNT_RUNS} runs each, budget {STATEMENT_BUDGET} for /settings):")
        for line in counted:
            print("  " + line)
        print(describe("bare SELECT 1 (reference)", reference))
        print(describe(f"/settings, {users} users, c={concurrency}", latencies))
        print(
            f"throughput: {commands / elapsed:,.0f} commands/s over {elapsed:.1f} s; "
            f"{load.statements / commands:.2f} statements and "
            f"{load.transactions / commands:.2f} transactions per command in the load "
            f"({server_during / commands:.2f} as PostgreSQL counts them, pings included)"
        )
        select_1 = f"SELECT 1 p99 {percentile(reference, 99) * 1000:.2f} ms"
        goal("settings_commands_per_s", round(commands / elapsed), reference=select_1)
        goal("settings_p99_ms", round(percentile(latencies, 99) * 1000, 2), reference=select_1)
        goal(
            "settings_transactions",
            round(load.transactions / commands, 2),
            reference=f"{server_during / commands:.2f} as PostgreSQL counts them, pings included",
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.commands, args.users, args.concurrency))
