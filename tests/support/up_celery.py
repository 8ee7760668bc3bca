"""`teddy up` with every bot against the stand-ins (tests/support/deployed.py), for the
end-to-end tests of the deployed shape."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teddy.cli_up import free_port
from teddy.supervisor import ChildState, UpState
from tests.e2e.test_up import stop_up
from tests.support.deployed import (
    StandIns,
    document,
    eventually,
    start_process,
    sweep,
    teddy_env,
    upload,
)


@dataclass
class Up:
    process: subprocess.Popen[bytes]
    home: Path
    log: Path
    env: dict[str, str]
    standins: StandIns
    restarts: int = 0

    @property
    def state(self) -> UpState:
        state = UpState.read(self.home / "run" / "up.json")
        assert state is not None, self.log.read_text()[-3000:]
        return state

    async def sweep(self, name: str) -> None:
        await sweep(self.state.database_url, self.state.redis_url, name, self.log)

    @property
    def database_url(self) -> str:
        return self.state.database_url

    def pid_of(self, name: str) -> int:
        (pid,) = [c.pid for c in self.state.children if c.name == name]
        assert pid is not None
        return pid

    def kill_worker(self) -> None:
        self.restarts = self._worker().restarts
        os.killpg(self.pid_of("worker"), signal.SIGKILL)

    async def replace_worker(self) -> None:
        def restarted() -> bool:
            worker = self._worker()
            return worker.restarts > self.restarts and worker.state == "running"

        await eventually(restarted, 30, "teddy up to restart the worker", self.log)

    def _worker(self) -> ChildState:
        (worker,) = [c for c in self.state.children if c.name == "worker"]
        return worker

    def upload(self, sender: dict[str, Any], name: str, data: bytes) -> None:
        upload(self.standins.telegram, sender, name, data)

    async def document(self, title: str) -> dict[str, Any]:
        return await document(self.database_url, title)


@asynccontextmanager
async def running_up(logs: Path, extra: Mapping[str, str]) -> AsyncIterator[Up]:
    """`teddy up` on a fresh data directory, configured with every stand-in plus `extra`,
    once its worker, beat and both bots are running; everything is stopped after."""
    standins = await StandIns.start()
    # Not under pytest's tmp_path: the embedded PostgreSQL runs as another user.
    home = Path(tempfile.mkdtemp(prefix="teddy-celery-"))
    log = logs / "up.log"
    # Its API on a port of its own (not 8000, which another `teddy up` may still hold).
    api_port = {"TEDDY_API_PORT": str(free_port())}
    env = teddy_env(home, {**standins.env(), **api_port, **extra})
    process = start_process([sys.executable, "-m", "teddy", "up"], env, log)
    deployed = Up(process, home, log, env, standins)
    try:
        await eventually(lambda: _started(deployed), 150, "teddy up to start", log)
        yield deployed
    finally:
        stop_up(process, home, timeout=20)
        await standins.stop()
        shutil.rmtree(home, ignore_errors=True)


def _started(up: Up) -> bool:
    assert up.process.poll() is None, up.log.read_text()[-3000:]
    state = UpState.read(up.home / "run" / "up.json")
    names = {c.name for c in state.children if c.state == "running"} if state else set()
    return (
        {"worker", "beat", "telegram", "slack"} <= names
        and bool(up.standins.telegram.sent("getUpdates"))
        and bool(up.standins.slack.sockets)
        and b" ready." in up.log.read_bytes()  # the Celery worker consumes
    )
