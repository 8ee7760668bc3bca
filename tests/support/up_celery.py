"""`teddy up` with every bot against the stand-ins (tests/support/deployed.py), for the
end-to-end tests of the deployed shape."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teddy.supervisor import UpState
from tests.e2e.test_up import stop_up
from tests.support.deployed import StandIns, eventually, query, start_process, sweep, teddy_env
from tests.support.telegram_standin import document_update


@dataclass
class Up:
    process: subprocess.Popen[bytes]
    home: Path
    log: Path
    env: dict[str, str]
    standins: StandIns

    @property
    def state(self) -> UpState:
        state = UpState.read(self.home / "run" / "up.json")
        assert state is not None, self.log.read_text()[-3000:]
        return state

    async def sweep(self, name: str) -> None:
        await sweep(self.state.database_url, self.state.redis_url, name, self.log)

    def pid_of(self, name: str) -> int:
        (pid,) = [c.pid for c in self.state.children if c.name == name]
        assert pid is not None
        return pid

    def upload(self, sender: dict[str, Any], name: str, data: bytes) -> None:
        """`sender` sends the PDF `name` to the bot in a direct chat on Telegram."""
        stored = self.standins.telegram.add_file(name.replace(".", "-"), data)
        self.standins.telegram.push_update(document_update(sender, stored, name, "application/pdf"))

    async def document(self, title: str) -> dict[str, Any]:
        rows = await query(
            self.state.database_url,
            "SELECT id, status, summary, chunk_count, ingest_runs FROM documents WHERE title = :t",
            t=title,
        )
        return dict(rows[0]._mapping) if rows else {}


@asynccontextmanager
async def running_up(logs: Path, extra: Mapping[str, str]) -> AsyncIterator[Up]:
    """`teddy up` on a fresh data directory, configured with every stand-in plus `extra`,
    once its worker, beat and both bots are running; everything is stopped after."""
    standins = await StandIns.start()
    # Not under pytest's tmp_path: the embedded PostgreSQL runs as another user.
    home = Path(tempfile.mkdtemp(prefix="teddy-celery-"))
    log = logs / "up.log"
    env = teddy_env(home, {**standins.env(), **extra})
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
