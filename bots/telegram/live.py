"""Telegram's live messages: what a text message shows, flood-control waits, and edits of
one live message paced to at most one per interval."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram.error import RetryAfter

from bots.telegram.render import TextMessage

log = logging.getLogger(__name__)


def retry_seconds(err: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns that it will become a timedelta
        warnings.simplefilter("ignore")
        value = err.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def showing(message: TextMessage) -> tuple[str, str]:
    """What a text message shows: its HTML and its buttons."""
    keyboard = message.keyboard.to_json() if message.keyboard is not None else ""
    return message.html, keyboard


class LiveEdits:
    """Edits of one live message at most once per `interval`; an edit that arrives while
    one is waiting replaces it, so a fast stream of updates shows its latest state."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last: dict[tuple[str, str], float] = {}
        self.pending: dict[tuple[str, str], Callable[[], Awaitable[None]]] = {}
        self.tasks: dict[tuple[str, str], asyncio.Task[None]] = {}

    def sent(self, key: tuple[str, str]) -> None:
        self.last[key] = asyncio.get_running_loop().time()

    def schedule(self, key: tuple[str, str], edit: Callable[[], Awaitable[None]]) -> None:
        self.pending[key] = edit
        task = self.tasks.get(key)
        if task is None or task.done():
            self.tasks[key] = asyncio.create_task(self._run(key))

    async def _run(self, key: tuple[str, str]) -> None:
        loop = asyncio.get_running_loop()
        while key in self.pending:
            wait = self.last.get(key, 0.0) + self.interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            edit = self.pending.pop(key)
            try:
                await edit()
            except Exception:
                log.exception("editing live message %s failed", key)
            self.last[key] = loop.time()
        self.tasks.pop(key, None)

    async def flush(self, keys: set[tuple[str, str]]) -> None:
        tasks = [t for k, t in self.tasks.items() if k in keys]
        if tasks:
            await asyncio.gather(*tasks)
        horizon = asyncio.get_running_loop().time() - 10 * self.interval
        for key in [k for k, at in self.last.items() if at < horizon and k not in self.tasks]:
            del self.last[key]
