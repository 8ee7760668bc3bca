"""The product as deployed (`JOB_QUEUE=celery`, one process per bot, a worker, beat), driven
from outside through the platform stand-ins: Telegram (polled by `teddy telegram`), Slack
(Socket Mode, so the bot needs no listening port) and an OpenAI-compatible model whose
embeddings can be held to catch a worker mid-ingestion.

Every stand-in listens on `host` (127.0.0.1, or an address inside a network namespace)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import text

from core.db import Database
from tests.support.fake_llm import FakeLLM, FakeReply
from tests.support.slack_standin import APP_TOKEN, DEFAULT_TOKEN, SlackStandIn
from tests.support.telegram_standin import Call, TelegramStandIn, document_update, parse_html

ROOT = Path(__file__).resolve().parents[2]
SIGNING_SECRET = "deployed-signing-secret"
SUMMARY = "Photosynthesis turns light, water and carbon dioxide into sugar (model summary)."
ANSWER = "Chlorophyll absorbs red and blue light and reflects green [1]."
# Variables of the calling environment that would point a child elsewhere.
_FOREIGN = (
    *("DATABASE_URL", "REDIS_URL", "CELERY_", "TELEGRAM_", "SLACK_", "DISCORD_", "LLM_"),
    *("EMBEDDINGS_", "GOOGLE_", "JOB_QUEUE", "TEDDY_HOME", "SECRET_KEY"),
)


class WatchedTelegram(TelegramStandIn):
    """The Telegram stand-in, keeping each message it stored (to follow its edits)."""

    def __init__(self, host: str) -> None:
        super().__init__(host=host)
        self.stored: list[tuple[dict[str, Any], str]] = []  # each message sent, its first text

    def _store(self, p: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        message = super()._store(p, content)
        self.stored.append((message, str(message.get("text", ""))))
        return message

    def first_message(self, chat_id: int, containing: str) -> dict[str, Any] | None:
        """The first message sent in the chat whose text (then) contained `containing`."""
        for message, first in self.stored:
            if message["chat"]["id"] == chat_id and containing in first:
                return message
        return None

    def texts(self, chat_id: int | str, *methods: str) -> list[str]:
        """The visible text of every message sent or edited in this chat, in order."""
        wanted = methods or ("sendMessage", "editMessageText")
        return [
            parse_html(str(c.params.get("text", "")))
            for c in self.sent()
            if c.method in wanted and c.chat_id == str(chat_id)
        ]


@dataclass
class DeployedLLM(FakeLLM):
    """The fake model answering as Teddy's prompts expect (a JSON digest, a cited answer).
    `hold_embeddings()` keeps embeddings requests waiting until `release_embeddings()`."""

    embedding_requests: int = 0  # counted on arrival, before any hold

    def __post_init__(self) -> None:
        self.default = _answer
        self._released = asyncio.Event()
        self._released.set()

    def hold_embeddings(self) -> None:
        self._released.clear()

    def release_embeddings(self) -> None:
        self._released.set()

    async def stop(self) -> None:
        self.release_embeddings()
        await super().stop()

    async def _embeddings(self, request: web.Request) -> web.Response:
        self.embedding_requests += 1
        await self._released.wait()
        return await super()._embeddings(request)


def _answer(request: dict[str, Any]) -> FakeReply:
    prompt = "\n".join(str(m.get("content") or "") for m in request["messages"])
    if "Reply with JSON only" in prompt and '"summary"' in prompt:
        return FakeReply(json.dumps({"summary": SUMMARY, "key_concepts": ["chlorophyll"]}))
    return FakeReply(ANSWER)


@dataclass
class StandIns:
    telegram: WatchedTelegram
    slack: SlackStandIn
    llm: DeployedLLM

    @classmethod
    async def start(cls, host: str = "127.0.0.1") -> StandIns:
        standins = cls(WatchedTelegram(host), SlackStandIn(host=host), DeployedLLM(host=host))
        await standins.telegram.start()
        await standins.slack.start()
        await standins.llm.start()
        return standins

    async def stop(self) -> None:
        await self.telegram.stop()
        await self.slack.stop()
        await self.llm.stop()

    def env(self) -> dict[str, str]:
        """What every Teddy process is configured with to reach them."""
        return {
            "TELEGRAM_BOT_TOKEN": self.telegram.token,
            "TELEGRAM_API_BASE_URL": self.telegram.url,
            "SLACK_BOT_TOKEN": DEFAULT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.api_url,
            "LLM_BASE_URL": self.llm.base_url,
            "LLM_MODEL": "fake-model",
            "LLM_API_KEY": "fake-key",
            "EMBEDDINGS_PROVIDER": "openai",
            "EMBEDDINGS_MODEL": "fake-embeddings",
        }


def teddy_env(home: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The test's environment minus anything pointing at other servers, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}
    return {
        **env,
        "TEDDY_HOME": str(home),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


async def sweep(database_url: str, redis_url: str, name: str, log: Path) -> None:
    """Queue the sweep `name` now, as beat does on its schedule, and wait until a worker
    (logging to `log`) ran it. Sent from this thread, whose network namespace it uses."""
    from core.settings import Settings
    from workers.app import create_app
    from workers.queue import CeleryJobQueue

    before = runs_logged(log, name)
    app = create_app(Settings(_env_file=None), database_url=database_url, redis_url=redis_url)
    queue = CeleryJobQueue(app)
    try:
        queue.send(name, {}, {})
    finally:
        queue.close()  # an open client would keep the embedded Redis from stopping
        app.close()
    await eventually(lambda: runs_logged(log, name) > before, 30, f"{name} to run", log)


def runs_logged(log: Path, job: str) -> int:
    return log.read_text().count(f"job {job} done")


def start_process(
    argv: Sequence[str], env: Mapping[str, str], log: Path
) -> subprocess.Popen[bytes]:
    """A Teddy command in its own session (a test can kill its whole group), logging to
    `log`."""
    return subprocess.Popen(
        list(argv),
        env=dict(env),
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def tail(log: Path | None, chars: int = 6000) -> str:
    return log.read_text()[-chars:] if log is not None and log.exists() else ""


async def eventually(
    check: Callable[[], bool] | Callable[[], Awaitable[bool]],
    timeout: float,
    what: str,
    log: Path | None = None,
) -> None:
    """Wait (without blocking the stand-ins' loop) until `check` holds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}\n{tail(log)}")
        await asyncio.sleep(0.3)


async def query(database_url: str, sql: str, **params: Any) -> list[Any]:
    db = Database(database_url, pool_size=1)
    try:
        async with db.transaction() as session:
            return list(await session.execute(text(sql), params))
    finally:
        await db.dispose()


def edits_of(calls: list[Call], message_id: int) -> list[str]:
    return [
        parse_html(str(c.params.get("text", "")))
        for c in calls
        if c.method == "editMessageText" and str(c.params.get("message_id")) == str(message_id)
    ]


def upload(telegram: TelegramStandIn, sender: dict[str, Any], name: str, data: bytes) -> None:
    """`sender` sends the PDF `name` to the bot in a direct chat on Telegram."""
    stored = telegram.add_file(name.replace(".", "-"), data)
    telegram.push_update(document_update(sender, stored, name, "application/pdf"))


async def document(database_url: str, title: str) -> dict[str, Any]:
    """The document's row (status, summary, chunk count, ingestion runs), or {}."""
    rows = await query(
        database_url,
        "SELECT id, status, summary, chunk_count, ingest_runs FROM documents WHERE title = :t",
        t=title,
    )
    return dict(rows[0]._mapping) if rows else {}
