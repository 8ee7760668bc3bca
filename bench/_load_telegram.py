"""Students through the Telegram adapter: updates go through the real python-telegram-bot
Application (`process_update`: translate, dispatch, render, Bot API calls over HTTP) to
the local Bot API stand-in, as bench.telegram_bench does."""

from __future__ import annotations

import itertools

from pydantic import SecretStr
from telegram import Update

from bench._load import Step
from bots.telegram.adapter import TelegramAdapter, build_application
from core.chat.messages import Reply, Text
from teddy.runtime import Core
from tests.support.telegram_standin import TelegramStandIn, message_update, user

INTERNAL = "something went wrong on my side"
SHOWN = {"sendMessage", "editMessageText", "sendPhoto", "sendDocument"}
_ROOM_IDS = itertools.count(1)


class TelegramPath:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.standin = TelegramStandIn()
        self.rooms: dict[str, int] = {}

    async def start(self) -> None:
        await self.standin.start()
        settings = self.core.settings.model_copy(
            update={
                "telegram_bot_token": SecretStr(self.standin.token),
                "telegram_api_base_url": self.standin.url,
            }
        )
        self.application = build_application(settings, polling=False)
        TelegramAdapter(self.core, self.application)
        await self.application.initialize()

    async def stop(self) -> None:
        await self.application.shutdown()
        await self.standin.stop()

    def chat_id(self, user_id: str, step: Step) -> int:
        if step.room is None:
            return int(user_id)
        return -self.rooms.setdefault(step.room, 1_000_000 + next(_ROOM_IDS))

    async def send(self, user_id: str, step: Step, event_id: str) -> list[Reply]:
        """Process one update; the 'replies' are what reached the stand-in for this chat.
        A refused call (bad HTML, too long), no message, or an internal error raises."""
        chat_id = self.chat_id(user_id, step)
        body = {
            "update_id": self.standin.next_update_id(),
            **message_update(user(int(user_id), "Student"), step.text, chat_id=chat_id),
        }
        before = len(self.standin.calls)
        await self.application.process_update(Update.de_json(body, self.application.bot))
        mine = [c for c in self.standin.calls[before:] if c.chat_id == str(chat_id)]
        refused = [c for c in mine if c.status != 200]
        if refused:
            raise RuntimeError(f"stand-in refused {refused[0].method} ({refused[0].status})")
        shown = [c for c in mine if c.method in SHOWN]
        if not shown:
            raise RuntimeError("no message reached the chat")
        texts = [str(c.params.get("text") or c.params.get("caption") or "") for c in shown]
        if any(INTERNAL in t for t in texts):
            raise RuntimeError("internal error")
        return [Reply((Text(t),)) for t in texts]
