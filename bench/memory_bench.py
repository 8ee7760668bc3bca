"""Memory of a process running the core: RSS idle and after many messages through the
dispatcher, and the database connections open before and after.

    python -m bench.memory_bench                       # 100,000 messages (the issue's size)
    python -m bench.memory_bench --messages 3000       # the quick run
    python -m bench.memory_bench --in-process          # the model in this process instead

As deployed, the process asks `teddy embed` (started here, one per machine) for query
embeddings and loads no model; at the end a query is embedded through it, so semantic search
is shown still working. `--in-process` loads the local model into the process itself.

Messages are console-like Incoming events from 1,000 users, a mix of /settings, /help,
/start and plain text, 20 in flight at a time."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Iterator

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
from bench.embed_bench import embed_service
from core.documents.embeddings import embedder_for
from teddy.runtime import Runtime

QUICK_ARGS = ["--messages", "3000"]
MIX = (
    Step("/settings", "/settings"),
    Step("/help", "/help"),
    Step("plain text", "what should I revise for the exam tomorrow?"),
    Step("/settings", "/settings"),
    Step("/start", "/start"),
)


@contextlib.contextmanager
def embedder_settings(in_process: bool) -> Iterator[dict[str, object]]:
    """The core's embedding settings: the local model, or `teddy embed` on a free port."""
    if in_process:
        yield {"embeddings_provider": "local"}
        return
    with embed_service() as (url, _):
        yield {"embeddings_url": url}


async def semantic_search_works(core: Runtime) -> str:
    """A query embedded by the core's embedder, as a search would: its size and time."""
    embedder = embedder_for(core.services)
    if embedder is None:
        raise SystemExit("no embedder: semantic search would be keyword-only")
    started = time.perf_counter()
    [vector] = await embedder.embed(["how do vaccines train the immune system"])
    return f"{len(vector)} dimensions in {(time.perf_counter() - started) * 1000:.1f} ms"


async def main(messages: int, users: int, concurrency: int, in_process: bool) -> None:
    logging.disable(logging.WARNING)
    with embedder_settings(in_process) as embedding:
        await measure(messages, users, concurrency, embedding)


async def measure(
    messages: int, users: int, concurrency: int, embedding: dict[str, object]
) -> None:
    async with bench_core(None, preload_embedder=True, **embedding) as core:
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
        searched = await semantic_search_works(core)
        await asyncio.sleep(0)
    where = "in this process" if "embeddings_provider" in embedding else "teddy embed"
    print(
        f"core process memory, {messages:,} messages from {users:,} users, c={concurrency}, "
        f"embedding model: {where}"
    )
    print(f"  RSS with the core open, warmed up (ref): {rss_open:8.1f} MiB")
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
    print(f"  semantic search after the run: a query embedded ({where}), {searched}")
    print(f"  torch imported in this process: {'torch' in sys.modules}")
    print("  RSS after each tenth: " + ", ".join(f"{n:,}: {rss:.1f}" for n, rss in checkpoints))
    half = checkpoints[len(checkpoints) // 2 - 1][1]
    print(f"  growth over the second half: {rss_after - half:+.1f} MiB (flat means no leak)")
    goal(
        "bot_rss_after_messages_mib",
        round(rss_after, 1),
        reference=f"idle {rss_idle:.1f} MiB",
        size=messages,
        note=f"embedding model: {where}; torch loaded: {'torch' in sys.modules}",
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
    parser.add_argument(
        "--in-process", action="store_true", help="load the embedding model in this process"
    )
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.users, args.concurrency, args.in_process))
