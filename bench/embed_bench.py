"""The embedding model in one process (`teddy embed`) instead of in every bot and the API:
idle RSS of a bot-like process with the remote embedder next to the in-process model, and
query-embedding latency over HTTP next to in-process.

    python -m bench.embed_bench                    # 1,000 users, 500 queries
    python -m bench.embed_bench --users 200 --queries 200   # the quick run

Each idle figure comes from a fresh process that opens the core as a bot does (the model
preloaded when it is in-process), embeds one query, lets `--users` users say /start, and
reports its RSS. Goal (issue 22): a bot ≤ 150 MiB idle, the API ≤ 200 MiB."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from bench._common import bench_core, describe, goal
from bench._load import Step, Tally, core_sender, rss_mib, run_students

QUICK_ARGS = ["--users", "200", "--queries", "200"]
ROOT = Path(__file__).resolve().parents[1]
BOT_IDLE_GOAL_MIB = 150
API_IDLE_GOAL_MIB = 200
QUERIES = (
    "which organelle is the powerhouse of the cell",
    "what ended the thirty years war",
    "why are noble gases unreactive",
    "how does a lever trade force for distance",
    "explain the difference between mitosis and meiosis in plain words",
    "what does the derivative of a function tell us about its graph",
    "summarise the causes of the french revolution",
    "how do vaccines train the immune system",
)


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    for name in ("EMBEDDINGS_PROVIDER", "EMBEDDINGS_MODEL", "EMBEDDINGS_URL"):
        env.pop(name, None)
    env.update(extra)
    return env


@contextmanager
def embed_service() -> Iterator[tuple[str, psutil.Process]]:
    """`teddy embed` on a free port, once it is healthy."""
    from teddy.cli_up import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "teddy", "embed", "--port", str(port)],
        env=_env(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"teddy embed exited with {process.returncode}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise SystemExit("teddy embed was not healthy within 300 s")
        yield url, psutil.Process(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


async def probe(users: int, api: bool) -> None:
    """In a fresh process: the idle RSS of a bot-like core, or with `api` of the API's
    (the web app built on it), as one JSON line."""
    logging.disable(logging.WARNING)
    async with bench_core(preload_embedder=True) as core:
        if api:
            from api.app import create_app

            create_app(core.settings, core)
        if core.warm_up is not None:
            await core.warm_up
        from core.documents.embeddings import embedder_for

        embedder = embedder_for(core.services)
        assert embedder is not None, "no embedder: install the local-embeddings extra"
        await embedder.embed([QUERIES[0]])
        tally = Tally()
        send = core_sender(core, "console")
        students = ((f"u{i}", [Step("/start", "/start")]) for i in range(users))
        await run_students(students, send, 20, tally)
        report = {
            "rss_mib": rss_mib(),
            "torch": "torch" in sys.modules,
            "errors": tally.error_count,
        }
    print(json.dumps(report))


def idle_rss(users: int, *, api: bool = False, **env: str) -> dict[str, object]:
    argv = [sys.executable, "-m", "bench.embed_bench", "--probe", "--users", str(users)]
    done = subprocess.run(
        [*argv, "--api"] if api else argv,
        env=_env(**env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the probe failed:\n{done.stderr[-3000:]}")
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


async def latencies(url: str, queries: int) -> tuple[list[float], list[float]]:
    from core.documents.embeddings import LocalEmbedder, service_embedder

    local, remote = LocalEmbedder(), service_embedder(url)
    await local.warm()
    await local.embed(["warm"]), await remote.embed(["warm"])
    local_s: list[float] = []
    remote_s: list[float] = []
    for n in range(queries):  # interleaved, so both see the same machine load
        query = QUERIES[n % len(QUERIES)]
        for embedder, samples in ((local, local_s), (remote, remote_s)):
            started = time.perf_counter()
            await embedder.embed([query])
            samples.append(time.perf_counter() - started)
    return local_s, remote_s


def main(users: int, queries: int) -> None:
    with embed_service() as (url, service):
        remote = idle_rss(users, EMBEDDINGS_URL=url)
        api = idle_rss(users, api=True, EMBEDDINGS_URL=url)
        service_rss = service.memory_info().rss / 1_048_576
        local_s, remote_s = asyncio.run(latencies(url, queries))
    local = idle_rss(users, EMBEDDINGS_PROVIDER="local")
    print(f"bot-like process idle RSS, after {users:,} users said /start")
    print(
        f"  remote embedder (teddy embed): {remote['rss_mib']:8.1f} MiB  torch imported: "
        f"{remote['torch']}  goal ≤ {BOT_IDLE_GOAL_MIB} MiB "
        f"{'met' if float(str(remote['rss_mib'])) <= BOT_IDLE_GOAL_MIB else 'MISSED'}"
    )
    print(f"  in-process model (ref):        {local['rss_mib']:8.1f} MiB  torch: {local['torch']}")
    print(
        f"  the API (web app built), remote embedder: {api['rss_mib']:8.1f} MiB  torch: "
        f"{api['torch']}  goal ≤ {API_IDLE_GOAL_MIB} MiB "
        f"{'met' if float(str(api['rss_mib'])) <= API_IDLE_GOAL_MIB else 'MISSED'}"
    )
    print(f"  teddy embed itself (one per machine): {service_rss:8.1f} MiB")
    print(f"query embedding, one query at a time, n={queries}")
    print("  " + describe("in-process LocalEmbedder (ref)", local_s))
    print("  " + describe("HTTP /v1/embeddings (teddy embed)", remote_s))
    in_process = f"in-process model {float(str(local['rss_mib'])):.1f} MiB"
    for key, probe_report in (("bot_idle_rss_mib", remote), ("api_rss_mib", api)):
        goal(
            key,
            round(float(str(probe_report["rss_mib"])), 1),
            reference=in_process,
            note=f"remote embedder, torch imported: {probe_report['torch']}",
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        asyncio.run(probe(args.users, args.api))
    else:
        main(args.users, args.queries)
