"""Memory of a process running the core: RSS idle and after many messages through the
dispatcher, and the database connections open before and after.

    python -m bench.memory_bench                       # 100,000 messages (the issue's size)
    python -m bench.memory_bench --messages 3000       # the quick run

Messages are console-like Incoming events from 1,000 users, a mix of /settings, /help,
/start and plain text, 20 in flight at a time."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time

from bench._common import bench_core, goal
from bench._load import (
    ConnectionSampler,
    Step,
    Tally,
    core_sender,
    db_connections,
    rss_mib,
    run_students,
)

QUICK_ARGS = ["--messages", "3000"]
MIX = (
    Step("/settings", "/settings"),
    Step("/help", "/help"),
    Step("plain text", "what should I revise for the exam tomorrow?"),
    Step("/settings", "/settings"),
    Step("/start", "/start"),
)


async def main(messages: int, users: int, concurrency: int) -> None:
    logging.disable(logging.WARNING)
    async with bench_core(preload_embedder=True) as core:
        send = core_sender(core, "console")
        if core.warm_up is not None:
            await core.warm_up  # the model is part of the process's idle memory
        rss_open = rss_mib()
        connections_idle = await db_connections(core)
        # Every user exists (and every code path is imported) before the idle figure.
        warm = Tally()
        await run_students(
            ((f"u{i}", [Step("/start", "/start")]) for i in range(users)), send, concurrency, warm
        )
        rss_idle = rss_mib()
        tally = Tally()
        checkpoints: list[tuple[int, float]] = []
        started = time.perf_counter()
        async with ConnectionSampler(core) as sampler:
            for part in range(10):  # RSS after each tenth, to tell warm-up from growth
                first, last = part * messages // 10, (part + 1) * messages // 10
                await run_students(
                    ((f"u{n % users}", [MIX[n % len(MIX)]]) for n in range(first, last)),
                    send,
                    concurrency,
                    tally,
                )
                checkpoints.append((last, rss_mib()))
        elapsed = time.perf_counter() - started
        rss_after = checkpoints[-1][1]
        connections_after = await db_connections(core)
        await asyncio.sleep(0)
    print(f"core process memory, {messages:,} messages from {users:,} users, c={concurrency}")
    print(f"  RSS with the core open, model loaded (ref): {rss_open:8.1f} MiB")
    print(f"  RSS idle, after {users:,} users said /start:".ljust(44) + f"{rss_idle:8.1f} MiB")
    print(
        f"  RSS after {messages:,} messages:".ljust(44) + f"{rss_after:8.1f} MiB "
        f"({rss_after - rss_idle:+.1f} MiB, {(rss_after - rss_idle) * 1024 / messages:.2f} KiB/msg)"
    )
    print(
        f"  DB connections: idle {connections_idle}, max during {sampler.max}, "
        f"after {connections_after} (pool 10 + overflow 10)"
    )
    print(
        f"  {messages / elapsed:,.0f} messages/s over {elapsed:.1f} s, "
        f"error rate {tally.error_count}/{tally.total}"
    )
    print("  RSS after each tenth: " + ", ".join(f"{n:,}: {rss:.1f}" for n, rss in checkpoints))
    half = checkpoints[len(checkpoints) // 2 - 1][1]
    print(f"  growth over the second half: {rss_after - half:+.1f} MiB (flat means no leak)")
    goal(
        "bot_rss_after_messages_mib",
        round(rss_after, 1),
        reference=f"idle {rss_idle:.1f} MiB",
        size=messages,
        note=f"torch loaded: {'torch' in sys.modules}",
    )
    for line in tally.table():
        print(line)
    if tally.error_count:
        raise SystemExit(f"{tally.error_count} messages failed: {tally.summary_of_errors()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.users, args.concurrency))
