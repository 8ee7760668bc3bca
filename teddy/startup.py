"""Python's cyclic garbage collector, paused while a process starts.

Importing Teddy and building its core allocates some 190,000 objects and frees almost none,
so the collector runs hundreds of times over a heap that only grows: about an eighth of
`teddy chat`'s start (see `bench/startup_bench.py`). Objects made at start live as long as
the process, so on resuming they are frozen (`gc.freeze`): later collections skip them
instead of scanning them all at the first one."""

from __future__ import annotations

import gc


class CollectorPause:
    """`resume()` ends the pause (once; later calls do nothing). Resume in a `finally`."""

    def __init__(self) -> None:
        self._was_enabled = gc.isenabled()
        self._paused = True
        gc.disable()

    def resume(self) -> None:
        if not self._paused:
            return
        self._paused = False
        if self._was_enabled:
            gc.freeze()
            gc.enable()
