"""The real python-telegram-bot Application wired to the core and to the Bot API stand-in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from telegram import Update

from bots.telegram.adapter import AnyApplication, TelegramAdapter, build_application
from core.settings import Settings
from teddy.runtime import Runtime
from tests.support.telegram_standin import TelegramStandIn

WEBHOOK_SECRET = "s3cret-token_for-tests"


def bot_settings(settings: Settings, standin: TelegramStandIn) -> Settings:
    return settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(standin.token),
            "telegram_api_base_url": standin.url,
            "telegram_webhook_secret": SecretStr(WEBHOOK_SECRET),
        }
    )


@dataclass
class TelegramBot:
    standin: TelegramStandIn
    application: AnyApplication
    adapter: TelegramAdapter
    settings: Settings

    async def process(self, update: dict[str, Any]) -> None:
        """Hand one update to the application and return when its handlers are done."""
        update.setdefault("update_id", self.standin.next_update_id())
        await self.application.process_update(Update.de_json(update, self.application.bot))


async def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the bot")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def running_bot(
    core: Runtime,
    *,
    polling: bool = False,
    started: bool = False,
    edit_interval: float = 0.2,
    token: str | None = None,
) -> AsyncIterator[TelegramBot]:
    """`polling`: the updater long-polls the stand-in; `started`: the application consumes
    its update queue (what the webhook feeds); `token`: the bot token (one shaped like a
    real one, for the log redaction tests)."""
    standin = TelegramStandIn() if token is None else TelegramStandIn(token)
    await standin.start()
    settings = bot_settings(core.settings, standin)
    application = build_application(settings, polling=polling)
    adapter = TelegramAdapter(core, application, edit_interval=edit_interval)
    try:
        async with application:
            await adapter.register_commands()
            if polling or started:
                await application.start()
            if polling:
                assert application.updater is not None
                await application.updater.start_polling(timeout=1, poll_interval=0)
            try:
                yield TelegramBot(standin, application, adapter, settings)
            finally:
                if application.updater is not None and application.updater.running:
                    await application.updater.stop()
                if application.running:
                    await application.stop()
    finally:
        await standin.stop()
