"""Benchmark of the web companion, served by `teddy api` (uvicorn) on loopback:

- the stats endpoint (/api/v1/stats) for a user with a year of history: p50/p99;
- the dashboard page: time to first byte;
- sustained requests/s with p99 under load (concurrent clients for a bounded time);
- every page's time to first byte (goal: p99 <= 100 ms) and a room page's live update over
  its WebSocket after a focus phase change (goal: within 1 s), see bench/web_live.py.

    python -m bench.web_bench              # 365 days of history, 15 s of load, 16 clients
    python -m bench.web_bench --seconds 30 --clients 32
    python -m bench.web_bench --seconds 2 --page-samples 50 --rounds 10   # small
    python -m bench.web_bench --baseline /tmp/base   # pages against another checkout
    python -m bench.web_bench --api-workers 2   # the load spread over two API processes

`--baseline DIR` also serves the app from the source tree DIR (e.g. `git archive <commit>`
unpacked there) on the same database, and takes each page's samples from the two servers
in turn, so a before/after comparison shares whatever load the machine has.

Runs on the embedded PostgreSQL/Redis in a temporary directory (or DATABASE_URL/REDIS_URL:
use scratch servers). The reference is a bare SELECT 1 round trip from this process."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench._common import bench_core, describe, goal, percentile, select_one_latencies
from bench.web_live import (
    LIVE_GOAL_MS,
    PAGE_GOAL_MS,
    pages,
    room_update_latencies,
    study_room,
    verdict,
)
from bench.web_seed import seed_history
from core.accounts import service as accounts
from core.accounts import tokens
from core.chat.messages import Sender
from core.identity.service import user_for_sender
from teddy.runtime import Runtime
from tests.e2e.oidc_standin import free_port


async def prepare(core: Runtime, days: int) -> tuple[str, str, dict[str, int], int]:
    """A user with `days` of history; returns an API token, a session cookie, counts and
    the user's id."""
    now = datetime.now(UTC)
    async with core.db.transaction() as session:
        user = await user_for_sender(session, Sender("bench", "year-user", "Year"), now)
        counts = await seed_history(session, user, days=days, now=now)
        _, token = await tokens.create_api_token(session, user, "bench", now)
        web = await accounts.start_web_session(session, user.id, now)
    return token, web.token, counts, user.id


def start_api(
    core: Runtime, home: Path, port: int, source: Path | None = None
) -> subprocess.Popen[bytes]:
    """`teddy api` on `port`; from the source tree `source` when given."""
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        **({"PYTHONPATH": str(source)} if source is not None else {}),
        "TEDDY_HOME": str(home),
        "DATABASE_URL": core.servers.database_url,
        "REDIS_URL": core.servers.redis_url,
        "API_RATE_PER_MINUTE": "100000000",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "teddy", "api", "--port", str(port)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, cwd=source)


async def wait_ready(client: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + 300  # loading the embedding model on a busy machine
    while time.monotonic() < deadline:
        try:
            # Ready: the embedding model the API preloads is in, so it is not measured.
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("teddy api did not start")


async def timed(client: httpx.AsyncClient, path: str, count: int, **kw: object) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        response = await client.get(path, **kw)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text[:200]
        samples.append(time.perf_counter() - start)
    return samples


async def first_byte(client: httpx.AsyncClient, path: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        async with client.stream("GET", path) as response:
            async for _chunk in response.aiter_raw():
                samples.append(time.perf_counter() - start)
                break
            assert response.status_code == 200
    return samples


async def load(
    targets: list[httpx.AsyncClient],
    path: str,
    seconds: float,
    clients: int,
    headers: dict[str, str],
) -> tuple[int, list[float], int]:
    """`clients` loops for `seconds`, client n on API process n mod len(targets)."""
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    errors = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.monotonic() < stop:
            start = time.perf_counter()
            response = await client.get(path, headers=headers)
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                errors += 1

    await asyncio.gather(*(worker(targets[n % len(targets)]) for n in range(clients)))
    return len(latencies), latencies, errors


async def page_ttfbs(
    client: httpx.AsyncClient, room_id: int, samples: int, baseline: httpx.AsyncClient | None
) -> None:
    """Every page's TTFB with the session cookie set, against the 100 ms goal; with a
    baseline server, its figure for the page from samples taken in turn with these."""
    servers = [client] if baseline is None else [baseline, client]
    for path in pages(room_id):
        found: list[list[float]] = [[] for _ in servers]
        for server in servers:
            await first_byte(server, path, 3)  # warm-up
        for n in range(samples):
            for turn in range(len(servers)):
                k = (turn + n) % len(servers)  # alternate which goes first
                found[k] += await first_byte(servers[k], path, 1)
        for label, times in zip(["baseline ", ""][-len(servers) :], found, strict=True):
            ms = [s * 1000 for s in times]
            print(describe(f"{label}TTFB {path}", times) + f"  {verdict(ms, PAGE_GOAL_MS)}")


async def main(
    days: int,
    seconds: float,
    clients: int,
    page_samples: int = 100,
    rounds: int = 20,
    baseline: Path | None = None,
    api_workers: int = 1,
) -> None:
    async with bench_core() as core:
        token, cookie, counts, user_id = await prepare(core, days)
        room_id = await study_room(core, user_id)
        print(f"seeded {days} days: {counts}")
        reference = await select_one_latencies(core, 500)
        # Several API processes stand for `teddy api` behind a proxy with that many workers.
        ports, base_port = [free_port() for _ in range(api_workers)], free_port()
        processes = [start_api(core, core.settings.home(), p) for p in ports]
        port = ports[0]
        if baseline is not None:
            home = core.settings.home() / "baseline"
            processes.append(start_api(core, home, base_port, baseline))
        limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients * 2)
        try:
            async with (
                httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits
                ) as client,
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{base_port}", timeout=30) as other,
            ):
                await wait_ready(client)
                if baseline is not None:
                    await wait_ready(other)
                    other.cookies.set("teddy_session", cookie)
                bearer = {"authorization": f"Bearer {token}"}
                await timed(client, "/api/v1/stats?period=all", 5, headers=bearer)  # warm-up
                print(describe("reference: SELECT 1", reference))
                for period in ("week", "all"):
                    samples = await timed(
                        client, f"/api/v1/stats?period={period}", 200, headers=bearer
                    )
                    print(describe(f"GET /api/v1/stats?period={period}", samples))
                client.cookies.set("teddy_session", cookie)
                print(
                    describe(
                        "dashboard (month) TTFB",
                        await first_byte(client, "/dashboard?period=month", 100),
                    )
                )
                await page_ttfbs(
                    client, room_id, page_samples, other if baseline is not None else None
                )
                base = f"http://127.0.0.1:{port}"
                start, commit = await room_update_latencies(
                    core, base, cookie, user_id, room_id, rounds
                )
                ms = [s * 1000 for s in start]
                print(
                    describe("room phase → WebSocket (sweep start)", start)
                    + "  "
                    + verdict(ms, LIVE_GOAL_MS)
                )
                print(describe("room phase → WebSocket (after commit)", commit))
                client.cookies.clear()
                others = [
                    httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", timeout=30, limits=limits)
                    for p in ports[1:]
                ]
                for other in others:
                    await wait_ready(other)
                targets = [client, *others]
                for path, label in (
                    ("/api/v1/me", "GET /api/v1/me"),
                    ("/api/v1/stats", "GET /api/v1/stats (week)"),
                ):
                    done, latencies, errors = await load(targets, path, seconds, clients, bearer)
                    print(
                        describe(f"{label} under load", latencies)
                        + f"  {done / seconds:7.1f} req/s  errors={errors}"
                        + f"  ({clients} clients, {seconds:.0f} s, {api_workers} API processes)"
                    )
                    if path == "/api/v1/stats":
                        select_1 = f"SELECT 1 p99 {percentile(reference, 99) * 1000:.2f} ms"
                        note = f"{clients} clients, {api_workers} API processes, errors {errors}"
                        goal(
                            "stats_req_per_s",
                            round(done / seconds, 1),
                            reference=select_1,
                            note=note,
                        )
                        p99 = round(percentile(latencies, 99) * 1000, 1)
                        goal("stats_p99_ms", p99, reference=select_1, note=note)
                for other in others:
                    await other.aclose()
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=20)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365, help="days of history to seed")
    parser.add_argument("--seconds", type=float, default=15, help="seconds of load per route")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--page-samples", type=int, default=100, help="TTFB samples a page")
    parser.add_argument("--rounds", type=int, default=20, help="live room phase changes")
    parser.add_argument(
        "--baseline", type=Path, help="a source tree to serve too, for page before/after"
    )
    parser.add_argument("--api-workers", type=int, default=1, help="API processes sharing the load")
    args = parser.parse_args()
    asyncio.run(
        main(
            args.days,
            args.seconds,
            args.clients,
            args.page_samples,
            args.rounds,
            args.baseline.resolve() if args.baseline else None,
            args.api_workers,
        )
    )
