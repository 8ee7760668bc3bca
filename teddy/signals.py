"""Turn SIGINT and SIGTERM into an event a long-running process waits on."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from types import FrameType


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (call from inside the running loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def terminate_like_interrupt() -> None:
    """SIGTERM stops a Teddy process the way Ctrl-C does, as an exception: cleanups run
    (open_runtime's, and the embedded servers' at exit), so a process stopped by Kubernetes, a
    supervisor or `kill` stops the embedded PostgreSQL and Redis it was the last user of.
    Unlike Ctrl-C ("Aborted!", status 1) it exits with status 0: a stop it was asked for.
    Processes that wait on signals themselves (`stop_on_signals`, uvicorn, Celery) install
    their own handlers over this one; uvicorn re-raises SIGTERM into it when it is done."""
    signal.signal(signal.SIGTERM, _terminated)


class Terminated(SystemExit):
    """Raised by SIGTERM: unwinds like KeyboardInterrupt (no `except Exception` stops it),
    and ends the process with status 0."""

    def __init__(self) -> None:
        super().__init__(0)


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated()
