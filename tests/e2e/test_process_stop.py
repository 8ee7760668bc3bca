"""A Teddy process stops the embedded servers it was the last user of, and a process killed
with SIGKILL does not keep them running forever."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from teddy.cli_up import free_port

ROOT = Path(__file__).resolve().parents[2]


def start_api(home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"TEDDY_HOME": str(home), "PYTHONPATH": str(ROOT), "EMBEDDINGS_PROVIDER": "none"})
    process = subprocess.Popen(
        [sys.executable, "-m", "teddy", "api", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return process
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)


def start_process(home: Path, args: list[str], ready: bytes, log: Path) -> subprocess.Popen[bytes]:
    """A teddy command on its own embedded servers; returns once `ready` is in its log."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"TEDDY_HOME": str(home), "PYTHONPATH": str(ROOT), "EMBEDDINGS_PROVIDER": "none"})
    process = subprocess.Popen(
        [sys.executable, "-m", "teddy", *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,  # kept open: `teddy chat` waits for input
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while ready not in log.read_bytes():
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.3)
    return process


@pytest.mark.parametrize(
    ("args", "ready"),
    [
        (["worker", "--concurrency", "1"], b" ready."),
        (["beat"], b"beat: Starting"),
        (["chat", "--jsonl", "--user", "sam"], b""),
    ],
    ids=["worker", "beat", "chat"],
)
def test_each_process_kind_stopped_with_sigterm_stops_its_embedded_servers(
    tmp_path: Path, home: Path, args: list[str], ready: bytes
) -> None:
    log = tmp_path / "process.log"
    process = start_process(home, args, ready, log)
    deadline = time.monotonic() + 60
    while not servers_of(home) or process.pid not in handle_pids(home):
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    process.wait(60)
    assert wait_gone(home) == [], log.read_text()
    if args[0] == "chat":  # a stop it was asked for: no "Aborted!", status 0
        assert process.returncode == 0, log.read_text()
        assert "Aborted" not in log.read_text()


def servers_of(home: Path) -> list[psutil.Process]:
    """The embedded PostgreSQL and Redis processes of this data directory."""
    found = []
    for process in psutil.process_iter(["name", "cmdline", "cwd"]):
        name = process.info["name"] or ""
        if not (name.startswith("postgres") or name.startswith("redis")):
            continue
        where = " ".join(process.info["cmdline"] or []) + " " + (process.info["cwd"] or "")
        if str(home) in where:
            found.append(process)
    return found


def wait_gone(home: Path, timeout: float = 30) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while (left := servers_of(home)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def handle_pids(home: Path) -> list[int]:
    path = home / "postgres" / ".handle_pids.json"
    return list(json.loads(path.read_text())) if path.exists() else []


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """A fresh data directory; whatever a failed test left running there is stopped."""
    yield tmp_path / "home"
    for process in servers_of(tmp_path / "home"):
        with contextlib.suppress(psutil.NoSuchProcess):
            process.terminate()


def test_teddy_api_stopped_with_sigterm_stops_its_embedded_servers(
    tmp_path: Path, home: Path
) -> None:
    api = start_api(home, free_port(), tmp_path / "api.log")
    assert servers_of(home), "the embedded servers did not start under the data directory"
    api.send_signal(signal.SIGTERM)
    api.wait(60)
    assert wait_gone(home) == [], (tmp_path / "api.log").read_text()
    assert api.pid not in handle_pids(home)


def test_a_process_killed_with_sigkill_is_pruned_at_the_next_start(
    tmp_path: Path, home: Path
) -> None:
    killed = start_api(home, free_port(), tmp_path / "api.log")
    killed.kill()
    killed.wait(10)
    assert killed.pid in handle_pids(home)
    api = start_api(home, free_port(), tmp_path / "api.log")
    try:
        assert killed.pid not in handle_pids(home)
    finally:
        api.send_signal(signal.SIGTERM)
    api.wait(60)
    assert wait_gone(home) == [], (tmp_path / "api.log").read_text()
