"""Commands through the whole core (router, identity, transaction) against the real database.

    python -m bench.core_roundtrip [--commands 10000] [--users 200] [--concurrency 20]

Prints SQL statements and transactions per command for a few everyday commands, then
p50/p99 latency and commands/s for `/settings` under load, next to a bare `SELECT 1` round
trip on the same connection pool."""

from __future__ import annotations

import argparse
import asyncio
import logging
import platform
import time
from itertools import count

from sqlalchemy import text

from bench._common import bench_core, describe, goal, percentile, select_one_latencies
from core.chat.messages import Conversation, Incoming, Sender
from core.db.counting import counting
from core.jobs import InlineJobQueue
from teddy.runtime import Core

# Each counted after one warm-up run by the same user, so first-use work (creating the
# user, preparing statements) is not in the figure.
COUNTED_COMMANDS = ("/settings", "/help", "/tasks", "/task x tomorrow", "/decks")
COUNT_RUNS = 20
STATEMENT_BUDGET = 4  # issue 22: a simple command
_event_ids = count()
# Backends report their statistics at most once a second, and within a second of idling.
STATS_DELAY_SECONDS = 2.5


def _incoming(sender: Sender, message: str) -> Incoming:
    chat = Conversation("bench", sender.external_id, True)
    return Incoming(sender, chat, message, event_id=f"e{next(_event_ids)}")


async def statements_per_command(core: Core) -> list[str]:
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


async def server_transactions(core: Core) -> int:
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
        latencies: list[float] = []
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(commands):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                incoming = _incoming(senders[i % users], "/settings")
                start = time.perf_counter()
                replies = await core.dispatcher.handle(incoming)
                latencies.append(time.perf_counter() - start)
                assert replies and "time zone" in replies[0].plain_text()

        server_before = await server_transactions(core)
        with counting(core.db.engine) as load:
            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            elapsed = time.perf_counter() - started
        server_during = await server_transactions(core) - server_before - 1
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
