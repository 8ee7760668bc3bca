"""Students through the Discord adapter: the real discord.py client connected to the local
Discord stand-in (REST under /api/v10 and the gateway WebSocket), with gateway events
injected as Discord would send them: INTERACTION_CREATE for slash commands and button
clicks, MESSAGE_CREATE for direct messages (tutor questions, file uploads).

A step's latency runs from the gateway event being sent until the stand-in receives the
first visible answer: the interaction's response (or its follow-up after a deferral), or
the first message in the DM. Every message the stand-in receives is checked against
Discord's limits (2,000 characters of content, embed and component limits, never empty); a
message Discord would refuse counts as an error."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from typing import Any

import discord
import yarl

from bench._load import NOTE, Step
from bots.discord.adapter import TeddyDiscord
from core.chat.messages import Button, Buttons, Reply, Text
from teddy.runtime import Runtime
from tests.support.discord_standin import (
    APP_ID,
    BOT_ID,
    GUILD_ID,
    DiscordStandIn,
    member,
    message,
    user,
)

_IDS = itertools.count(980000000000000000)
USER_BASE = 940000000000000000
DM_BASE = 960000000000000000
ROOM_BASE = 921000000000000000
TEXT_LIMIT = 2000
EMBED_TOTAL = 6000


def discord_refusal(message: dict[str, Any]) -> str | None:
    """Why Discord would refuse this message payload (None: it would accept it)."""
    content = message.get("content") or ""
    embeds = message.get("embeds") or []
    components = message.get("components") or []
    files = message.get("files") or message.get("attachments") or []
    if len(content) > TEXT_LIMIT:
        return f"content of {len(content)} characters"
    if not (content.strip() or embeds or components or files):
        return "empty message"
    if len(embeds) > 10:
        return f"{len(embeds)} embeds"
    total = 0
    for embed in embeds:
        fields = embed.get("fields") or []
        if len(embed.get("title") or "") > 256 or len(fields) > 25:
            return "embed title or field count over the limit"
        for f in fields:
            if not (0 < len(f["name"]) <= 256 and 0 < len(f["value"]) <= 1024):
                return "embed field name or value out of bounds"
            total += len(f["name"]) + len(f["value"])
        total += len(embed.get("title") or "") + len(embed.get("description") or "")
    if total > EMBED_TOTAL:
        return f"embeds of {total} characters"
    if len(components) > 5:
        return f"{len(components)} component rows"
    for row in components:
        for button in row.get("components", []):
            if len(button.get("custom_id", "")) > 100 or not 0 < len(button.get("label")) <= 80:
                return "button custom id or label out of bounds"
        if len(row.get("components", [])) > 5:
            return "more than 5 buttons in a row"
    return None


class CheckingDiscordStandIn(DiscordStandIn):
    """The stand-in, answering as before, that checks each message, tells the waiting
    student when their answer arrived, and keeps only the latest calls."""

    refused: list[str]
    waiting: dict[str, asyncio.Future[tuple[dict[str, Any], str]]]

    def _answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        status, payload = super()._answer(method, path, body)
        if len(self.calls) > 2000:
            del self.calls[:1000]
        found = self._answered(method, path, body, payload)
        if found is not None:
            key, message, message_id = found
            problem = None if message.get("deleted") else discord_refusal(message)
            if problem is not None:
                self.refused.append(f"{method} {path.split('/')[1]}: {problem}")
            future = self.waiting.get(key)
            if future is not None and not future.done():
                future.set_result((message, message_id))
        return status, payload

    def _answered(
        self, method: str, path: str, body: Any, payload: Any
    ) -> tuple[str, dict[str, Any], str] | None:
        """(the waiting key, the message, its id) when this call shows someone a message."""
        parts = path.strip("/").split("/")
        if parts[0] == "interactions" and parts[-1] == "callback":
            token = parts[2]
            if body.get("type") == 4:
                return token, body.get("data") or {}, self.originals.get(token, "")
            if body.get("type") == 7:  # the clicked message, edited in place
                return token, {**(body.get("data") or {}), "edited": True}, ""
            return None  # a deferral: the answer follows on the webhook
        if parts[0] == "webhooks" and method in ("POST", "PATCH"):
            token = parts[2]
            return token, body or {}, str((payload or {}).get("id", ""))
        if parts[0] == "webhooks" and method == "DELETE":
            return parts[2], {"content": "", "deleted": True}, ""
        if parts[0] == "channels" and parts[-1] == "messages" and method == "POST":
            return parts[1], body or {}, str((payload or {}).get("id", ""))
        return None


class DiscordPath:
    def __init__(self, core: Runtime) -> None:
        self.core = core
        self.standin = CheckingDiscordStandIn()
        self.standin.refused = []
        self.standin.waiting = {}
        self.last_message: dict[str, tuple[str, dict[str, Any]]] = {}
        self.channels: dict[str, str] = {}
        self.rooms: defaultdict[str, int] = defaultdict(lambda: len(self.rooms))

    async def start(self) -> None:
        await self.standin.start()
        self._saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = f"{self.standin.url}/api/v10"
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.standin.gateway_url)
        self.client = TeddyDiscord(self.core)
        self.running = asyncio.create_task(self.client.start("bot-token"))
        await asyncio.wait_for(self.client.wait_until_ready(), 30)

    async def stop(self) -> None:
        await self.client.close()
        await asyncio.wait_for(self.running, 10)
        await self.standin.stop()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved

    @property
    def refused(self) -> list[str]:
        return self.standin.refused

    async def send(self, user_id: str, step: Step, event_id: str) -> list[Reply]:
        """One gateway event; returns the answer as a Reply (its text and buttons)."""
        if step.upload or (step.action is None and not step.text.startswith("/")):
            key = str(DM_BASE + int(user_id) - USER_BASE)
            event, data = "MESSAGE_CREATE", self._dm_message(user_id, key, step)
        else:
            iid = str(next(_IDS))
            key = f"tok{iid}"
            event, data = "INTERACTION_CREATE", self._interaction(user_id, iid, step)
        future = self.standin.waiting[key] = asyncio.get_running_loop().create_future()
        try:
            await self.standin.dispatch(event, data)
            message, message_id = await asyncio.wait_for(future, 120)
        finally:
            self.standin.waiting.pop(key, None)
        if message.get("deleted"):
            return []  # the interaction was answered with nothing
        if message.get("edited") and user_id in self.last_message:
            message_id = self.last_message[user_id][0]
        self.last_message[user_id] = (message_id, message)
        return [as_reply(message)]

    def _interaction(self, user_id: str, iid: str, step: Step) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": iid,
            "application_id": APP_ID,
            "token": f"tok{iid}",
            "version": 1,
            "locale": "en-US",
            "app_permissions": "2147483647",
            "entitlements": [],
            "authorizing_integration_owners": {},
            "attachment_size_limit": 26214400,
        }
        if step.action is not None:
            message_id, shown = self.last_message[user_id]
            custom_id = f"t:{step.action}"
            payload.update(
                type=3,
                data={"custom_id": custom_id, "component_type": 2},
                message=self._message_data(message_id, shown, self._dm(user_id)),
            )
        else:
            payload.update(type=2, data=slash_data(step))
        return {**payload, **self._where(user_id, step)}

    def _dm(self, user_id: str) -> str:
        return str(DM_BASE + int(user_id) - USER_BASE)

    def _where(self, user_id: str, step: Step) -> dict[str, Any]:
        person = user(user_id, f"student{int(user_id) - USER_BASE}")
        if step.room is None:
            dm = self._dm(user_id)
            return {
                "channel_id": dm,
                "context": 1,
                "user": person,
                "channel": {"id": dm, "type": 1, "recipients": [person]},
            }
        channel = str(ROOM_BASE + self.rooms[step.room])
        return {
            "guild_id": GUILD_ID,
            "channel_id": channel,
            "context": 0,
            "guild_locale": "en-US",
            "member": member(user_id, person["username"]),
            "channel": {
                "id": channel,
                "type": 0,
                "name": step.room,
                "guild_id": GUILD_ID,
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
            },
        }

    def _message_data(self, message_id: str, shown: dict[str, Any], channel: str) -> dict[str, Any]:
        """The message a student clicked a button of, as the gateway shows it."""
        body = {"content": shown.get("content"), "components": shown.get("components")}
        return message(
            message_id or str(next(_IDS)), channel, user(BOT_ID, "teddy", bot=True), body
        )

    def _dm_message(self, user_id: str, channel: str, step: Step) -> dict[str, Any]:
        attachments = []
        if step.upload:
            self.standin.cdn["photosynthesis.md"] = NOTE
            url = f"{self.standin.url}/cdn/photosynthesis.md"
            attachments.append(
                {
                    "id": str(next(_IDS)),
                    "filename": "photosynthesis.md",
                    "size": len(NOTE),
                    "url": url,
                    "proxy_url": url,
                    "content_type": "text/markdown",
                }
            )
        author = user(user_id, f"student{int(user_id) - USER_BASE}")
        data = message(str(next(_IDS)), channel, author, {"content": step.text})
        data["attachments"] = attachments
        return data


def slash_data(step: Step) -> dict[str, Any]:
    """The slash command's data as Discord sends it: each option filled in, integers as
    type 4, text and choices as type 3."""
    name, _, args = step.text.removeprefix("/").partition(" ")
    if args.strip() and not step.options:
        raise ValueError(f"{step.text!r}: a command with arguments needs its options for Discord")
    options = [
        {"name": key, "type": 4 if isinstance(value, int) else 3, "value": value}
        for key, value in step.options.items()
    ]
    data: dict[str, Any] = {"id": "970000000000000001", "name": name, "type": 1}
    return {**data, "options": options} if options else data


def as_reply(message: dict[str, Any]) -> Reply:
    """What the student saw, as a core Reply: the text and the buttons' core actions."""
    buttons = [
        Button(b.get("label", ""), b["custom_id"].removeprefix("t:"))
        for row in message.get("components") or []
        for b in row.get("components", [])
        if b.get("custom_id", "").startswith("t:")
    ]
    parts: list[Text | Buttons] = [Text(message.get("content") or "")]
    if buttons:
        parts.append(Buttons((tuple(buttons),)))
    return Reply(tuple(parts))


def discord_user(n: int) -> str:
    return str(USER_BASE + n)
