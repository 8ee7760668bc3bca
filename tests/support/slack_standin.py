"""A local stand-in for Slack's Web API, enough for the real slack-sdk client and bolt.

Serves POST /api/{method} (JSON, form or multipart bodies), the upload URLs of
files_upload_v2, GET /files/{name} for files "shared" in tests and POST /respond/{id} for
response_urls. Records every call with the bot token it carried.

Workspaces for OAuth installs: `add_workspace` scripts the code Slack would hand the
installer's browser; `oauth.v2.access` trades it (once, with the app's client id and secret)
for that workspace's bot token, and `auth.test` answers per token. A revoked token gets
`token_revoked` from every method, as Slack does after an uninstall.

It refuses what Slack refuses, with Slack's error codes: a call without a token
(`not_authed`) or with one it never issued (`invalid_auth`); Block Kit over the published
limits (`invalid_blocks`, with Slack's `errors` lines); message text over 40,000 characters
(`msg_too_long`); and, with `rate_limit` set, calls beyond it (HTTP 429, `Retry-After`).
Refusals of what Slack would refuse are kept in `refusals`; an e2e fixture checks it is empty
(`check_refusals`), so a payload Slack would refuse fails the test even where our code only
logs the error."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.rate_limit import RateLimit, whole_seconds

DEFAULT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-test"  # the app-level token Socket Mode connects with
DEFAULT_WORKSPACE = {"team_id": "T1", "team": "Test", "user_id": "UBOT", "bot_id": "BBOT"}

# Slack's published limits (api.slack.com: Block Kit reference, chat.postMessage).
MAX_BLOCKS_IN_MESSAGE = 50
MAX_BLOCKS_IN_VIEW = 100  # a Home tab or a modal
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ACTION_ID = 255
MAX_MESSAGE_TEXT = 40000
MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "chat.scheduleMessage")
VIEW_METHODS = ("views.publish", "views.open", "views.update", "views.push")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    token: str | None = None
    error: str = ""  # Slack's error code when the call was refused


@dataclass
class SlackStandIn:
    calls: list[Call] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)
    rate_limit_next: dict[str, int] = field(default_factory=dict)  # method -> Retry-After
    rate_limit_token: dict[str, int] = field(default_factory=dict)  # token -> Retry-After, once
    failing: dict[str, str] = field(default_factory=dict)  # method -> Slack error code
    url: str = ""
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)
    client_id: str = "111.222"
    client_secret: str = "app-client-secret"
    workspaces: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> auth.test
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> oauth.v2.access
    revoked: set[str] = field(default_factory=set)
    file_tokens: dict[str, str] = field(default_factory=dict)  # file name -> token it needs
    tokens: set[str] = field(default_factory=lambda: {DEFAULT_TOKEN, APP_TOKEN})
    rate_limit: RateLimit | None = None  # per token and method
    refusals: list[Call] = field(default_factory=list)
    host: str = "127.0.0.1"  # the address it listens on

    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_get("/socket", self._socket)
        app.router.add_post("/respond/{id}", self._respond)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{self.host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def add_workspace(
        self, team_id: str, token: str, *, installer: str = "UADMIN", bot_user: str = "UBOT"
    ) -> str:
        """Script one workspace's install; returns the code its redirect carries."""
        self.workspaces[token] = {
            "team_id": team_id,
            "team": f"Team {team_id}",
            "user_id": bot_user,
            "bot_id": f"B{team_id}",
        }
        code = f"code-{team_id}"
        self.codes[code] = {
            "ok": True,
            "app_id": "A1",
            "authed_user": {"id": installer},
            "scope": "commands,chat:write,im:history",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": bot_user,
            "team": {"id": team_id, "name": f"Team {team_id}"},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        return code

    def check_refusals(self) -> None:
        """Fail if Slack would have refused anything our code sent."""
        if self.refusals:
            lines = [f"{c.method}: {c.error} {c.params.get('errors', '')}" for c in self.refusals]
            raise AssertionError("Slack would have refused:\n" + "\n".join(lines))

    def take_refusals(self) -> list[Call]:
        """The refusals so far, taken off the record: the test expected them."""
        taken, self.refusals = self.refusals, []
        return taken

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    def tokens_of(self, method: str) -> list[str | None]:
        return [c.token for c in self.named(method)]

    def named(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(self.named(method)) < count:
            if time.monotonic() > deadline:
                seen = [c.method for c in self.calls]
                raise AssertionError(f"expected {count} {method} calls, saw {seen}")
            await asyncio.sleep(0.02)
        return self.named(method)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            return {k: v if isinstance(v, str) else "<file>" for k, v in form.items()}
        return {}

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        token = _bearer(request) or params.get("token")
        self.calls.append(Call(method, params, time.monotonic(), token=token))
        if method == "oauth.v2.access":
            return web.json_response(self._oauth_access(request, params))
        if token in self.revoked:
            return web.json_response({"ok": False, "error": "token_revoked"})
        if token is None or token not in self.tokens | set(self.workspaces):
            return self._refuse("not_authed" if not token else "invalid_auth")
        if self.rate_limit is not None:
            wait = self.rate_limit.retry_after(f"{token} {method}")
            if wait is not None:
                self.calls[-1].status = 429
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(whole_seconds(wait))},
                )
        problems = payload_errors(method, params)
        if problems:
            code = "msg_too_long" if problems == ["msg_too_long"] else "invalid_blocks"
            return self._refuse(code, [p for p in problems if p != "msg_too_long"])
        if method in self.rate_limit_next or token in self.rate_limit_token:
            retry_after = (
                self.rate_limit_next.pop(method)
                if method in self.rate_limit_next
                else self.rate_limit_token.pop(str(token))
            )
            self.calls[-1].status = 429
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(retry_after)},
            )
        if method in self.failing:
            return web.json_response({"ok": False, "error": self.failing[method]})
        return web.json_response(self._answer(method, params, token))

    def _refuse(self, error: str, errors: list[str] | None = None) -> web.Response:
        call = self.calls[-1]
        call.error = error
        body: dict[str, Any] = {"ok": False, "error": error}
        if errors:
            body["errors"] = errors
            body["response_metadata"] = {"messages": [f"[ERROR] {e}" for e in errors]}
            call.params = {**call.params, "errors": errors}
        self.refusals.append(call)
        return web.json_response(body)

    def _oauth_access(self, request: web.Request, params: dict[str, Any]) -> dict[str, Any]:
        basic = request.headers.get("Authorization", "").removeprefix("Basic ")
        client = base64.b64decode(basic).decode() if basic else ""
        if client != f"{self.client_id}:{self.client_secret}":
            return {"ok": False, "error": "invalid_client_id"}
        found = self.codes.pop(str(params.get("code")), None)  # a code is good once
        return found if found is not None else {"ok": False, "error": "invalid_code"}

    def _answer(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        if method == "auth.test":
            workspace = self.workspaces.get(token or "", DEFAULT_WORKSPACE)
            return {"ok": True, "url": self.url, "user": "teddy", **workspace}
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") or f"{1700000000 + next(self._ts)}.000100"
            return {
                "ok": True,
                "channel": params.get("channel"),
                "ts": ts,
                "message": {"text": params.get("text"), "ts": ts},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"{1700000000 + next(self._ts)}.000200"}
        if method == "views.publish":
            view = params.get("view")
            return {"ok": True, "view": json.loads(view) if isinstance(view, str) else view}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts)}"
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            parsed = json.loads(files) if isinstance(files, str) else files or []
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in parsed]}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{params.get('users', 'X')}"}}
        return {"ok": True}

    async def _upload(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.uploads[request.match_info["file_id"]] = body
        self.calls.append(
            Call("upload", {"file_id": request.match_info["file_id"]}, time.monotonic())
        )
        return web.Response(text=f"OK - {len(body)}")

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        call = Call("response_url", body, time.monotonic())
        self.calls.append(call)
        problems = payload_errors("response_url", body)
        if problems:
            call.status, call.error = 400, "invalid_blocks"
            call.params = {**body, "errors": problems}
            self.refusals.append(call)
            return web.Response(status=400, text="invalid_blocks")
        return web.Response(text="ok")

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        token = _bearer(request)
        self.calls.append(Call("file", {"name": name}, time.monotonic(), token=token))
        if token != self.file_tokens.get(name, DEFAULT_TOKEN):
            return web.Response(status=403)
        data = self.files.get(name)
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "connection_info": {"app_id": "A1"},
                "debug_info": {"host": "standin"},
            }
        )
        async for message in ws:
            if message.type == web.WSMsgType.TEXT:
                self.acks.append(json.loads(message.data))
        self.sockets.remove(ws)
        return ws

    async def push(
        self, kind: str, payload: dict[str, Any], envelope_id: str, retry_attempt: int = 0
    ) -> None:
        """Send a Socket Mode envelope to the connected app (waits for the connection)."""
        deadline = time.monotonic() + 10
        while not self.sockets:
            if time.monotonic() > deadline:
                raise AssertionError("no Socket Mode connection")
            await asyncio.sleep(0.02)
        await self.sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": retry_attempt,
                "retry_reason": "timeout" if retry_attempt else "",
            }
        )


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ") if header.startswith("Bearer ") else None


# Block Kit limits -------------------------------------------------------------


def payload_errors(method: str, params: dict[str, Any]) -> list[str]:
    """What Slack would say is wrong with a call's blocks or text, as its `errors` lines;
    "msg_too_long" for text over the limit. Empty when Slack would take it."""
    if method in VIEW_METHODS:
        view = _json_value(params.get("view")) or {}
        return block_errors(view.get("blocks") or [], MAX_BLOCKS_IN_VIEW)
    if method not in (*MESSAGE_METHODS, "response_url"):
        return []
    problems = block_errors(_json_value(params.get("blocks")) or [], MAX_BLOCKS_IN_MESSAGE)
    attachments = _json_value(params.get("attachments")) or []
    for i, attachment in enumerate(attachments):
        for line in block_errors(attachment.get("blocks") or [], MAX_BLOCKS_IN_MESSAGE):
            problems.append(
                line.replace("[json-pointer:/blocks", f"[json-pointer:/attachments/{i}/blocks")
            )
    if len(str(params.get("text") or "")) > MAX_MESSAGE_TEXT:
        problems.append("msg_too_long")
    return problems


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


def block_errors(blocks: list[dict[str, Any]], max_blocks: int) -> list[str]:
    errors = _too_many(blocks, max_blocks, "/blocks")
    for i, block in enumerate(blocks):
        at = f"/blocks/{i}"
        kind = block.get("type")
        if kind == "section":
            errors += _too_long(block.get("text"), MAX_SECTION_TEXT, f"{at}/text/text")
            fields = block.get("fields") or []
            errors += _too_many(fields, MAX_SECTION_FIELDS, f"{at}/fields")
            for j, item in enumerate(fields):
                errors += _too_long(item, MAX_FIELD_TEXT, f"{at}/fields/{j}/text")
            if block.get("accessory"):
                errors += _element_errors(block["accessory"], f"{at}/accessory")
        elif kind == "header":
            errors += _too_long(block.get("text"), MAX_HEADER_TEXT, f"{at}/text/text")
        elif kind == "actions":
            elements = block.get("elements") or []
            errors += _too_many(elements, MAX_ACTIONS_ELEMENTS, f"{at}/elements")
            for j, element in enumerate(elements):
                errors += _element_errors(element, f"{at}/elements/{j}")
        elif kind == "context":
            errors += _too_many(block.get("elements") or [], MAX_CONTEXT_ELEMENTS, f"{at}/elements")
    return errors


def _element_errors(element: dict[str, Any], at: str) -> list[str]:
    errors = _too_long(str(element.get("action_id") or ""), MAX_ACTION_ID, f"{at}/action_id")
    if element.get("type") == "button":
        errors += _too_long(element.get("text"), MAX_BUTTON_TEXT, f"{at}/text/text")
        errors += _too_long(str(element.get("value") or ""), MAX_BUTTON_VALUE, f"{at}/value")
    return errors


def _too_many(items: list[Any], limit: int, at: str) -> list[str]:
    if len(items) > limit:
        return [f"must be less than {limit + 1} items [json-pointer:{at}]"]
    return []


def _too_long(text: Any, limit: int, at: str) -> list[str]:
    value = text.get("text", "") if isinstance(text, dict) else str(text or "")
    if len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{at}]"]
    return []
