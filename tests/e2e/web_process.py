"""`teddy api` as a user runs it: a subprocess on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis

from teddy.cli_up import free_port
from teddy.servers import Servers


def environment(home: Path, servers: Servers, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "TEDDY_HOME": str(home),
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "SECRET_KEY": "e2e-test-secret",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
    }


@contextmanager
def running_api(
    home: Path, servers: Servers, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[str, dict[str, str]]]:
    """Start `teddy api`, wait for /healthz, yield (base URL, environment), then stop it.
    Redis is emptied first: rate-limit counters are keyed by user id, and ids restart
    after each test's truncation. `extra_env` adds settings (an LLM, for example)."""
    redis.Redis.from_url(servers.redis_url).flushdb()
    port = free_port()
    env = {**environment(home, servers, port), **(extra_env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "teddy", "api", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                stderr = process.stderr.read() if process.stderr else b""
                raise RuntimeError(f"teddy api did not start: {stderr!r}")
            time.sleep(0.2)
        yield base, env
    finally:
        process.terminate()
        # Generous: on a busy machine (a parallel run, other work) stopping takes a while.
        process.wait(timeout=60)
