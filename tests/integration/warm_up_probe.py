"""Run in a fresh process by test_embedder_warm_up: open the core with the local model
configured and report, as one JSON line, when the model was loaded and how long the event
loop stalled meanwhile."""

from __future__ import annotations

import asyncio
import json
import time

from core.documents.embeddings import LocalEmbedder
from core.settings import Settings
from teddy.runtime import open_runtime


async def ticker(gaps: list[float], stop: asyncio.Event) -> None:
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now


async def main() -> None:
    settings = Settings(embeddings_provider="local")
    report: dict[str, object] = {"loaded_before": LocalEmbedder().loaded}
    async with open_runtime(settings, run_migrations=False, preload_embedder=True) as core:
        embedder = core.services.embedder
        report["loaded_at_entry"] = embedder.loaded
        gaps: list[float] = []
        stop = asyncio.Event()
        ticking = asyncio.create_task(ticker(gaps, stop))
        assert core.warm_up is not None
        await core.warm_up
        stop.set()
        await ticking
        report["loaded_after_warm_up"] = embedder.loaded
        report["longest_loop_stall_s"] = max(gaps, default=0.0)
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main())
