"""Commands through the whole core (router, identity, transaction) against the real database.

    python -m bench.core_roundtrip [--commands 10000] [--users 200] [--concurrency 20]

Prints p50/p99 latency and commands/s for `/settings`, next to a bare `SELECT 1` round trip
on the same connection pool."""

from __future__ import annotations

import argparse
import asyncio
import logging
import platform
import time

from bench._common import bench_core, describe, select_one_latencies
from core.chat.messages import Conversation, Incoming, Sender


async def main(commands: int, users: int, concurrency: int) -> None:
    logging.disable(logging.WARNING)
    async with bench_core() as core:
        reference = await select_one_latencies(core)
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
                sender = senders[i % users]
                incoming = Incoming(
                    sender,
                    Conversation("bench", sender.external_id, True),
                    "/settings",
                    event_id=f"e{i}",
                )
                start = time.perf_counter()
                replies = await core.dispatcher.handle(incoming)
                latencies.append(time.perf_counter() - start)
                assert replies and "time zone" in replies[0].plain_text()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        print(f"machine: {platform.machine()}, python {platform.python_version()}")
        print(describe("bare SELECT 1 (reference)", reference))
        print(describe(f"/settings, {users} users, c={concurrency}", latencies))
        print(f"throughput: {commands / elapsed:,.0f} commands/s over {elapsed:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.commands, args.users, args.concurrency))
