"""Students through the Telegram adapter: updates go through the real python-telegram-bot
Application (`process_update`: translate, dispatch, render, Bot API calls over HTTP) to
the local Bot API stand-in, as bench.telegram_bench does."""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import SecretStr
from telegram import Update

from bench._load import NOTE, Step
from bots.telegram.adapter import TelegramAdapter, build_application
from core.chat.messages import Button, Buttons, Reply, Text
from teddy.runtime import Runtime
from tests.support.telegram_standin import (
    TelegramStandIn,
    callback_update,
    document_update,
    message_update,
    user,
)

INTERNAL = "something went wrong on my side"
SHOWN = {"sendMessage", "editMessageText", "sendPhoto", "sendDocument"}
_ROOM_IDS = itertools.count(1)


class RecordingTelegramStandIn(TelegramStandIn):
    """The stand-in, answering as before, that remembers the latest message with buttons
    in each chat (the message a student presses a button of)."""

    def __init__(self) -> None:
        super().__init__()
        self.with_buttons: dict[str, dict[str, Any]] = {}

    def _store(self, p: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        message = super()._store(p, content)
        if p.get("reply_markup"):
            self.with_buttons[str(p["chat_id"])] = message
        return message


class TelegramPath:
    def __init__(self, core: Runtime) -> None:
        self.core = core
        self.standin = RecordingTelegramStandIn()
        self.rooms: dict[str, int] = {}
        self.refused: list[str] = []  # a refused call raises in `send` (counted there)

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
        body = {"update_id": self.standin.next_update_id(), **self._update(user_id, chat_id, step)}
        before = len(self.standin.calls)
        await self.application.process_update(Update.de_json(body, self.application.bot))
        mine = [c for c in self.standin.calls[before:] if c.chat_id == str(chat_id)]
        refused = [c for c in mine if c.status != 200]
        if refused:
            first = refused[0]
            raise RuntimeError(f"stand-in refused {first.method} ({first.status}): {first.refusal}")
        shown = [c for c in mine if c.method in SHOWN]
        if not shown:
            raise RuntimeError("no message reached the chat")
        texts = [str(c.params.get("text") or c.params.get("caption") or "") for c in shown]
        if any(INTERNAL in t for t in texts):
            raise RuntimeError("internal error")
        return [
            Reply((Text(t), Buttons(tuple(_buttons(c.keyboard)))) if c.keyboard else (Text(t),))
            for t, c in zip(texts, shown, strict=True)
        ]

    def _update(self, user_id: str, chat_id: int, step: Step) -> dict[str, Any]:
        sender = user(int(user_id), "Student")
        if step.action is not None:
            message = self.standin.with_buttons[str(chat_id)]
            return callback_update(sender, step.action, message)
        if step.upload:
            stored = self.standin.add_file(f"note{user_id}", NOTE)
            return document_update(
                sender, stored, "photosynthesis.md", "text/markdown", chat_id=chat_id
            )
        return message_update(sender, step.text, chat_id=chat_id)


def _buttons(keyboard: list[list[dict[str, str]]]) -> list[tuple[Button, ...]]:
    return [
        tuple(Button(b.get("text", ""), b["callback_data"]) for b in row if "callback_data" in b)
        for row in keyboard
    ]
