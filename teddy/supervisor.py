"""Run child processes, restart the ones that crash (with backoff), stop them all cleanly.

Each child runs in its own session, so a Ctrl-C in the terminal reaches only the
supervisor, which then stops the children in order and kills whatever they left behind
(a Celery worker's pool processes) through their process groups."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

log = logging.getLogger(__name__)

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
# A child that ran this long before exiting is considered healthy again: backoff restarts.
STABLE_AFTER = 30.0


@dataclass
class ChildSpec:
    name: str
    argv: list[str]
    # Variables for this child only, over the supervisor's environment.
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Child:
    spec: ChildSpec
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures_in_a_row: int = 0
    last_exit: int | None = None
    next_start: float = 0.0
    on_exit: list[Callable[[Child], None]] = field(default_factory=list)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class ChildState:
    name: str
    pid: int | None
    state: str
    restarts: int
    last_exit: int | None
    started_at: float


@dataclass
class UpState:
    """What `teddy up` writes for `teddy status` (under TEDDY_HOME/run/up.json)."""

    pid: int
    started_at: float
    database_url: str
    redis_url: str
    children: list[ChildState]

    @classmethod
    def read(cls, path: Path) -> UpState | None:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        data["children"] = [ChildState(**c) for c in data.get("children", [])]
        return cls(**data)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.chmod(0o600)  # it holds the database URL
        tmp.replace(path)


def pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Supervisor:
    def __init__(
        self,
        specs: list[ChildSpec],
        env: dict[str, str],
        *,
        on_change: Callable[[list[ChildState]], None] | None = None,
    ) -> None:
        self.children = [Child(spec) for spec in specs]
        self.env = env
        self.stopping = False
        self.on_change = on_change

    def request_stop(self, *_: object) -> None:
        self.stopping = True

    def run(self, poll: float = 0.2) -> None:
        """Start every child and keep them running until `request_stop()`."""
        for child in self.children:
            self._start(child)
        self._report()
        while not self.stopping:
            changed = False
            now = time.monotonic()
            for child in self.children:
                if child.process is not None and child.process.poll() is not None:
                    self._exited(child, now)
                    changed = True
                elif child.process is None and now >= child.next_start:
                    self._start(child)
                    changed = True
            if changed:
                self._report()
            time.sleep(poll)

    def _start(self, child: Child) -> None:
        env = {**self.env, **child.spec.env}
        child.process = subprocess.Popen(child.spec.argv, env=env, start_new_session=True)
        child.started_at = time.monotonic()
        log.info(
            "started %s (pid %s)", child.spec.name, child.pid, extra={"child": child.spec.name}
        )

    def _exited(self, child: Child, now: float) -> None:
        assert child.process is not None
        code = child.process.returncode
        _kill_group(child.process.pid, signal.SIGKILL)  # what it left behind
        ran = now - child.started_at
        child.failures_in_a_row = 1 if ran >= STABLE_AFTER else child.failures_in_a_row + 1
        delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (child.failures_in_a_row - 1))
        child.last_exit = code
        child.restarts += 1
        child.process = None
        child.next_start = now + delay
        log.warning(
            "%s exited with code %s after %.0fs; restarting in %.0fs (restart %d)",
            child.spec.name,
            code,
            ran,
            delay,
            child.restarts,
            extra={"child": child.spec.name},
        )
        for callback in child.on_exit:
            callback(child)

    def states(self) -> list[ChildState]:
        return [
            ChildState(
                name=c.spec.name,
                pid=c.pid,
                state="running" if c.running else "restarting",
                restarts=c.restarts,
                last_exit=c.last_exit,
                started_at=time.time() - (time.monotonic() - c.started_at),
            )
            for c in self.children
        ]

    def _report(self) -> None:
        if self.on_change is not None:
            self.on_change(self.states())

    def stop_all(self, timeout: float = 8.0) -> None:
        """SIGTERM every child, wait up to `timeout`, then SIGKILL their process groups."""
        self.stopping = True
        running = [c for c in self.children if c.running]
        descendants = _descendants([c.pid for c in running if c.pid is not None])
        for child in running:
            assert child.process is not None
            log.info("stopping %s (pid %s)", child.spec.name, child.pid)
            child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", child.spec.name)
        for child in self.children:
            if child.process is not None:
                _kill_group(child.process.pid, signal.SIGKILL)
                child.process.wait()
        # Grandchildren (a worker's pool) hold server connections until they are really gone.
        psutil.wait_procs(descendants, timeout=2)


def _descendants(pids: list[int]) -> list[psutil.Process]:
    found: list[psutil.Process] = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            found.extend(psutil.Process(pid).children(recursive=True))
    return found


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
