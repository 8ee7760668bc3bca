"""A local stand-in for Discord: the REST API (under /api/v10) and the gateway WebSocket.

The real discord.py client connects to it (tests patch `discord.http.Route.BASE` and
`DiscordWebSocket.DEFAULT_GATEWAY`); tests then inject gateway events (`dispatch`) and read
the REST calls the client made (`calls`).

It refuses what Discord refuses, as Discord answers: a message body over the published
limits (content, embeds, components) gets 400 "Invalid Form Body" (code 50035, with the
`errors` tree); an edit of a message the bot did not send gets 403 "Cannot edit a message
authored by another user" (50005), or 404 "Unknown Message" (10008) for an id it never
saw; with `rate_limit` set, requests beyond it get 429 with `Retry-After` and
`retry_after`. Refusals are kept in `refusals`; the e2e fixture checks it is empty
(`check_refusals`), so a payload Discord would refuse fails the test even where our code
only logs the error."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.rate_limit import RateLimit

APP_ID = "900000000000000001"
BOT_ID = "900000000000000002"
GUILD_ID = "910000000000000001"
TEXT_CHANNEL = "920000000000000001"
VOICE_CHANNEL = "920000000000000002"
OWNER_ID = "930000000000000009"

# Discord's published limits (discord.com/developers/docs: Message, Embed, Components).
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER_TEXT = 2048
MAX_AUTHOR_NAME = 256
MAX_EMBEDS_TOTAL = 6000  # title, description, field names and values, footer, author
MAX_ACTION_ROWS = 5
MAX_BUTTONS_PER_ROW = 5
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_SELECT_OPTIONS = 25
MAX_OPTION_TEXT = 100  # an option's label, value and description
MAX_PLACEHOLDER = 150


def user(uid: str, name: str, bot: bool = False) -> dict[str, Any]:
    return {
        "id": uid,
        "username": name,
        "discriminator": "0",
        "global_name": name.title(),
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


ALL_PERMISSIONS = "2147483647"
MEMBER_PERMISSIONS = "3072"  # view channel, send messages: no Administrator / Manage *


def member(uid: str, name: str, permissions: str = ALL_PERMISSIONS) -> dict[str, Any]:
    return {
        "user": user(uid, name),
        "roles": [],
        "joined_at": "2026-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
        "avatar": None,
        "pending": False,
        "permissions": permissions,
    }


def message(
    message_id: str, channel_id: str, author: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    """A message object as Discord sends it, with what a send or edit body gave it
    (content, embeds, flags, components)."""
    return {
        "id": message_id,
        "channel_id": channel_id,
        "author": author,
        "content": body.get("content") or "",
        "timestamp": "2026-11-25T10:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": body.get("embeds") or [],
        "pinned": False,
        "type": 0,
        "flags": body.get("flags") or 0,
        "components": body.get("components") or [],
    }


@dataclass
class Call:
    method: str
    path: str
    body: Any
    at: float
    status: int = 200
    refusal: Any = None  # Discord's error body when the call was refused


@dataclass
class DiscordStandIn:
    calls: list[Call] = field(default_factory=list)
    url: str = ""
    rate_limit_next: dict[str, float] = field(default_factory=dict)  # "POST /path" -> retry_after
    forbidden_channels: set[str] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(950000000000000000))
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    cdn: dict[str, bytes] = field(default_factory=dict)
    originals: dict[str, str] = field(default_factory=dict)  # interaction token -> message id
    everyone_permissions: str = ALL_PERMISSIONS  # the guild's @everyone role, sent at READY
    rate_limit: RateLimit | None = None  # per route ("METHOD /path")
    authored: set[str] = field(default_factory=set)  # ids of messages the bot sent
    foreign: set[str] = field(default_factory=set)  # ids of messages others sent
    refusals: list[Call] = field(default_factory=list)

    # Server ----------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=30 * 1024 * 1024)
        app.router.add_get("/gw", self._gateway)
        app.router.add_get("/gw/", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        app.router.add_get("/cdn/{name}", self._cdn)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def gateway_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/gw"

    def next_id(self) -> str:
        return str(next(self._ids))

    # REST ------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body = await self._body(request)
        self.calls.append(Call(request.method, path, body, time.monotonic()))
        key = f"{request.method} {path}"
        for pattern, retry_after in list(self.rate_limit_next.items()):
            if key.startswith(pattern):
                del self.rate_limit_next[pattern]
                payload = {
                    "message": "You are being rate limited.",
                    "retry_after": retry_after,
                    "global": False,
                }
                return self._json(
                    payload,
                    429,
                    {
                        "Retry-After": str(retry_after),
                        "Via": "1.1 google",
                        "X-RateLimit-Scope": "user",
                    },
                )
        if self.rate_limit is not None:
            wait = self.rate_limit.retry_after(key)
            if wait is not None:
                self.calls[-1].status = 429
                payload = {"message": "You are being rate limited.", "retry_after": wait}
                headers = {"Retry-After": f"{wait:.3f}", "X-RateLimit-Scope": "user"}
                return self._json({**payload, "global": False}, 429, headers)
        refusal = self._refusal(request.method, path, body)
        if refusal is not None:
            status, payload = refusal
            self.calls[-1].status, self.calls[-1].refusal = status, payload
            self.refusals.append(self.calls[-1])
            return self._json(payload, status)
        status, payload = self._answer(request.method, path, body)
        if request.method == "POST" and status == 200 and isinstance(payload, dict):
            self._remember_sent(path, payload)
        return self._json(payload, status)

    def check_refusals(self) -> None:
        """Fail if Discord would have refused anything our code sent."""
        if self.refusals:
            lines = [f"{c.method} {c.path}: {json.dumps(c.refusal)}" for c in self.refusals]
            raise AssertionError("Discord would have refused:\n" + "\n".join(lines))

    def take_refusals(self) -> list[Call]:
        """The refusals so far, taken off the record: the test expected them."""
        taken, self.refusals = self.refusals, []
        return taken

    def _remember_sent(self, path: str, payload: dict[str, Any]) -> None:
        if "id" in payload and (path.startswith("/channels/") or path.startswith("/webhooks/")):
            self.authored.add(str(payload["id"]))
        if path.startswith("/interactions/"):
            resource = payload.get("resource") or {}
            message_id = (resource.get("message") or {}).get("id")
            if message_id:
                self.authored.add(str(message_id))

    def _edit_refusal(self, message_id: str) -> tuple[int, Any] | None:
        if message_id == "@original" or message_id in self.authored:
            return None
        if message_id in self.foreign:
            return 403, {"message": "Cannot edit a message authored by another user", "code": 50005}
        return 404, {"message": "Unknown Message", "code": 10008}

    def _refusal(self, method: str, path: str, body: Any) -> tuple[int, Any] | None:
        """Discord's answer to a request it refuses, or None."""
        parts = path.strip("/").split("/")
        if method == "PATCH" and len(parts) >= 4 and parts[-2] == "messages":
            edit = self._edit_refusal(parts[-1])
            if edit is not None:
                return edit
        if method not in ("POST", "PATCH") or not isinstance(body, dict):
            return None
        sends = parts[0] in ("channels", "webhooks") and (
            "messages" in parts or parts[0] == "webhooks"
        )
        data = body
        if parts[0] == "interactions" and parts[-1] == "callback":
            if body.get("type") not in (4, 7):
                return None
            sends, data = True, body.get("data") or {}
        if not sends:
            return None
        errors = message_errors(data)
        if errors:
            return 400, {"message": "Invalid Form Body", "code": 50035, "errors": errors}
        return None

    @staticmethod
    def _json(
        payload: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        if status == 204:
            return web.Response(status=204)
        # discord.py parses JSON only with exactly this content type (no charset).
        return web.Response(
            body=json.dumps(payload).encode(),
            status=status,
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    async def _body(self, request: web.Request) -> Any:
        if request.content_type == "application/json":
            return await request.json()
        if request.content_type == "multipart/form-data":
            parts: dict[str, Any] = {"files": []}
            reader = await request.multipart()
            async for part in reader:
                data = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":  # type: ignore[union-attr]
                    parts.update(json.loads(data))
                else:
                    parts["files"].append(
                        {
                            "name": part.filename,  # type: ignore[union-attr]
                            "size": len(data),
                            "data": bytes(data),
                        }
                    )
            return parts
        raw = await request.read()
        return json.loads(raw) if raw else None

    def _answer(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if path == "/users/@me":
            return 200, user(BOT_ID, "teddy", bot=True)
        if path == "/oauth2/applications/@me":
            return 200, {
                "id": APP_ID,
                "name": "Teddy",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": user(OWNER_ID, "owner"),
                "verify_key": "00",
                "flags": 0,
                "team": None,
                "summary": "",
            }
        if path in ("/gateway", "/gateway/bot"):
            return 200, {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        if path.startswith(f"/applications/{APP_ID}/") and path.endswith("/commands"):
            commands = body or []
            return 200, [
                {
                    **c,
                    "id": self.next_id(),
                    "application_id": APP_ID,
                    "version": "1",
                    "default_member_permissions": None,
                    "type": c.get("type", 1),
                }
                for c in commands
            ]
        if path.startswith("/interactions/") and path.endswith("/callback"):
            return self._callback_answer(path, body)
        if path.startswith("/webhooks/") and path.endswith("/messages/@original"):
            token = path.split("/")[3]
            if method == "DELETE":
                return 204, None
            return self._message_answer(
                "GET", path, body, self.originals.setdefault(token, self.next_id())
            )
        if path == "/users/@me/channels":
            recipient = str(body["recipient_id"])  # discord.py sends the snowflake as a number
            return 200, {
                "id": f"77{recipient[-10:]}",
                "type": 1,
                "recipients": [user(recipient, "u")],
                "last_message_id": None,
            }
        if path.startswith("/webhooks/") or (path.startswith("/channels/") and "/messages" in path):
            return self._message_answer(method, path, body)
        if path.startswith("/channels/") and path.endswith("/typing"):
            return 204, None
        return 200, {}

    def _callback_answer(self, path: str, body: Any) -> tuple[int, Any]:
        interaction_id, token = path.split("/")[2:4]
        message_id = self.originals.setdefault(token, self.next_id())
        kind = body["type"]
        data = body.get("data") or {}
        answer: dict[str, Any] = {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "activity_instance_id": None,
                "response_message_id": message_id,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(data.get("flags", 0) & 64),
            }
        }
        if kind in (4, 7):
            answer["resource"] = {
                "type": kind,
                "message": self._message_answer("POST", path, data, message_id)[1],
            }
        return 200, answer

    def _message_answer(
        self, method: str, path: str, body: Any, known_id: str | None = None
    ) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        channel_id = parts[1] if parts[0] == "channels" else TEXT_CHANNEL
        if parts[0] == "channels" and channel_id in self.forbidden_channels:
            return 403, {"message": "Cannot send messages to this user", "code": 50007}
        message_id = known_id or (parts[-1] if method == "PATCH" else self.next_id())
        if method == "DELETE":
            return 204, None
        return 200, message(message_id, channel_id, user(BOT_ID, "teddy", bot=True), body or {})

    def named(self, method: str, fragment: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and fragment in c.path]

    async def wait_for(
        self, method: str, fragment: str, count: int = 1, timeout: float = 10.0
    ) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(self.named(method, fragment)) < count:
            if time.monotonic() > deadline:
                seen = [(c.method, c.path) for c in self.calls]
                raise AssertionError(f"expected {count} {method} *{fragment}*; saw {seen}")
            await asyncio.sleep(0.02)
        return self.named(method, fragment)

    # Gateway ---------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45000}, "s": None, "t": None})
        async for message in ws:
            if message.type != web.WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            if frame["op"] == 1:
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif frame["op"] == 2:
                await self._ready(ws)
        if ws in self._sockets:
            self._sockets.remove(ws)
        return ws

    async def _ready(self, ws: web.WebSocketResponse) -> None:
        await self._send(
            ws,
            "READY",
            {
                "v": 10,
                "user": user(BOT_ID, "teddy", bot=True),
                "guilds": [{"id": GUILD_ID, "unavailable": True}],
                "session_id": "sess-1",
                "resume_gateway_url": self.gateway_url,
                "shard": [0, 1],
                "application": {"id": APP_ID, "flags": 0},
                "private_channels": [],
                "relationships": [],
            },
        )
        await self._send(ws, "GUILD_CREATE", self.guild())
        self.identified.set()

    def guild(self) -> dict[str, Any]:
        everyone = {
            "id": GUILD_ID,
            "name": "@everyone",
            "permissions": self.everyone_permissions,
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        return {
            "id": GUILD_ID,
            "name": "Study Hall",
            "owner_id": OWNER_ID,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [everyone],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "unavailable": False,
            "large": False,
            "member_count": 2,
            "joined_at": "2026-01-01T00:00:00+00:00",
            "members": [member(OWNER_ID, "owner")],
            "voice_states": [],
            "presences": [],
            "threads": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "channels": [
                {
                    "id": TEXT_CHANNEL,
                    "type": 0,
                    "name": "study",
                    "position": 0,
                    "guild_id": GUILD_ID,
                    "permission_overwrites": [],
                    "nsfw": False,
                    "parent_id": None,
                    "topic": None,
                    "rate_limit_per_user": 0,
                    "last_message_id": None,
                },
                {
                    "id": VOICE_CHANNEL,
                    "type": 2,
                    "name": "Quiet Room",
                    "position": 1,
                    "guild_id": GUILD_ID,
                    "permission_overwrites": [],
                    "nsfw": False,
                    "parent_id": None,
                    "bitrate": 64000,
                    "user_limit": 0,
                    "rtc_region": None,
                },
            ],
        }

    async def _send(self, ws: web.WebSocketResponse, event: str, data: dict[str, Any]) -> None:
        await ws.send_json({"op": 0, "t": event, "s": next(self._seq), "d": data})

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to the connected client."""
        if event == "MESSAGE_CREATE" and str((data.get("author") or {}).get("id")) != BOT_ID:
            self.foreign.add(str(data["id"]))
        await asyncio.wait_for(self.identified.wait(), 10)
        await self._send(self._sockets[-1], event, data)

    async def drop_connection(self) -> None:
        self.identified.clear()
        for ws in list(self._sockets):
            await ws.close()

    async def _cdn(self, request: web.Request) -> web.Response:
        data = self.cdn.get(request.match_info["name"])
        return web.Response(body=data) if data is not None else web.Response(status=404)


# Message limits ------------------------------------------------------------------

Errors = dict[str, Any]


def _error(code: str, message: str) -> Errors:
    return {"_errors": [{"code": code, "message": message}]}


def _max_length(value: Any, limit: int) -> Errors | None:
    if value is not None and len(str(value)) > limit:
        return _error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return None


def _too_many(items: list[Any], limit: int) -> Errors | None:
    if len(items) > limit:
        return _error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return None


def message_errors(body: dict[str, Any]) -> Errors:
    """Discord's `errors` tree for a message body (empty: Discord would take it)."""
    errors: Errors = {}
    found = _max_length(body.get("content"), MAX_CONTENT)
    if found:
        errors["content"] = found
    embeds = body.get("embeds") or []
    embed_errors = _embeds_errors(embeds)
    if embed_errors:
        errors["embeds"] = embed_errors
    component_errors = _components_errors(body.get("components") or [])
    if component_errors:
        errors["components"] = component_errors
    return errors


def _embeds_errors(embeds: list[dict[str, Any]]) -> Errors:
    too_many = _too_many(embeds, MAX_EMBEDS)
    if too_many:
        return too_many
    errors: Errors = {}
    total = 0
    for i, embed in enumerate(embeds):
        found: Errors = {}
        for key, limit in (("title", MAX_EMBED_TITLE), ("description", MAX_EMBED_DESCRIPTION)):
            problem = _max_length(embed.get(key), limit)
            if problem:
                found[key] = problem
            total += len(str(embed.get(key) or ""))
        footer = (embed.get("footer") or {}).get("text")
        author = (embed.get("author") or {}).get("name")
        for key, sub, value, limit in (
            ("footer", "text", footer, MAX_FOOTER_TEXT),
            ("author", "name", author, MAX_AUTHOR_NAME),
        ):
            problem = _max_length(value, limit)
            if problem:
                found[key] = {sub: problem}
            total += len(str(value or ""))
        fields = embed.get("fields") or []
        problem = _too_many(fields, MAX_EMBED_FIELDS)
        if problem:
            found["fields"] = problem
        field_errors: Errors = {}
        for j, item in enumerate(fields):
            item_errors: Errors = {}
            for key, limit in (("name", MAX_FIELD_NAME), ("value", MAX_FIELD_VALUE)):
                problem = _max_length(item.get(key), limit)
                if problem:
                    item_errors[key] = problem
                total += len(str(item.get(key) or ""))
            if item_errors:
                field_errors[str(j)] = item_errors
        if field_errors and "fields" not in found:
            found["fields"] = field_errors
        if found:
            errors[str(i)] = found
    if not errors and total > MAX_EMBEDS_TOTAL:
        return _error(
            "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {MAX_EMBEDS_TOTAL}"
        )
    return errors


def _components_errors(rows: list[dict[str, Any]]) -> Errors:
    too_many = _too_many(rows, MAX_ACTION_ROWS)
    if too_many:
        return too_many
    errors: Errors = {}
    for i, row in enumerate(rows):
        children = row.get("components") or []
        buttons = [c for c in children if c.get("type") == 2]
        found: Errors = {}
        problem = _too_many(buttons, MAX_BUTTONS_PER_ROW)
        if problem:
            found["components"] = problem
        else:
            child_errors: Errors = {}
            for j, child in enumerate(children):
                problem_tree = _component_errors(child)
                if problem_tree:
                    child_errors[str(j)] = problem_tree
            if child_errors:
                found["components"] = child_errors
        if found:
            errors[str(i)] = found
    return errors


def _component_errors(component: dict[str, Any]) -> Errors:
    found: Errors = {}
    for key, limit in (("custom_id", MAX_CUSTOM_ID), ("label", MAX_BUTTON_LABEL)):
        problem = _max_length(component.get(key), limit)
        if problem:
            found[key] = problem
    problem = _max_length(component.get("placeholder"), MAX_PLACEHOLDER)
    if problem:
        found["placeholder"] = problem
    options = component.get("options") or []
    problem = _too_many(options, MAX_SELECT_OPTIONS)
    if problem:
        found["options"] = problem
    else:
        option_errors: Errors = {}
        for j, option in enumerate(options):
            item: Errors = {}
            for key in ("label", "value", "description"):
                too_long = _max_length(option.get(key), MAX_OPTION_TEXT)
                if too_long:
                    item[key] = too_long
            if item:
                option_errors[str(j)] = item
        if option_errors:
            found["options"] = option_errors
    return found
