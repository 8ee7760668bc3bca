"""A local stand-in for the Telegram Bot API, for tests and benchmarks.

It speaks the real protocol as python-telegram-bot uses it: `POST /bot{token}/{method}`
with form-encoded bodies (nested values as JSON strings) or multipart (files), answers
`{"ok": true, "result": ...}`, serves `GET /file/bot{token}/{path}`, hands scripted updates
to `getUpdates` as a long poll, and records every call with its arrival time. Tests can make
it answer 429 with `retry_after`, 403 for a chat that blocked the bot, and it refuses what
Telegram refuses (text over 4,096 characters, bad HTML, callback data over 64 bytes). With
`rate_limit` set, calls to one chat beyond it get 429 with `retry_after` in the JSON
`parameters`, as Telegram answers flood control.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from aiohttp import BodyPartReader, web

from tests.support.rate_limit import RateLimit, whole_seconds

BOT_ID = 777000111
BOT_USERNAME = "TeddyTestBot"
MAX_TEXT = 4096
MAX_CAPTION = 1024
_ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "a"}


@dataclass
class Call:
    at: float  # time.monotonic() on arrival
    method: str
    params: dict[str, Any]
    status: int = 200
    refusal: str = ""  # Telegram's description when the call was refused

    @property
    def chat_id(self) -> str:
        return str(self.params.get("chat_id", ""))

    @property
    def keyboard(self) -> list[list[dict[str, str]]]:
        markup = self.params.get("reply_markup") or {}
        rows: list[list[dict[str, str]]] = markup.get("inline_keyboard", [])
        return rows


@dataclass
class StoredFile:
    file_id: str
    path: str
    data: bytes
    size: int


class _HtmlCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.error = f'unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = f'can\'t find end tag corresponding to start tag "{tag}"'
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> str:
    """The visible text of a Telegram-HTML message; ValueError where Telegram refuses it."""
    if re.search(r"&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)", text) or re.search(r"<(?![a-z/])", text):
        raise ValueError("Bad Request: can't parse entities: unescaped character")
    checker = _HtmlCheck()
    checker.feed(text)
    checker.close()
    if checker.error is None and checker.stack:
        checker.error = f'can\'t find end of the entity starting at "{checker.stack[-1]}"'
    if checker.error is not None:
        raise ValueError(f"Bad Request: can't parse entities: {checker.error}")
    return html.unescape("".join(checker.text))


class TelegramStandIn:
    """Start with `await standin.start()`; `base_url`/`base_file_url` go to PTB's builder."""

    def __init__(self, token: str = "123456:TEST-TOKEN", *, host: str = "127.0.0.1") -> None:
        self.token = token
        self.host = host  # the address it listens on
        self.calls: list[Call] = []
        self.files: dict[str, StoredFile] = {}
        self.blocked: set[str] = set()
        self.admins: set[tuple[int, int]] = set()  # (chat id, user id) of chat administrators
        self.webhook: dict[str, Any] = {}
        self.commands: dict[str, list[dict[str, str]]] = {}
        self._updates: list[dict[str, Any]] = []
        self._new_update = asyncio.Event()
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._messages: dict[tuple[str, int], dict[str, Any]] = {}
        self._failures: list[tuple[str, int, int]] = []  # (method, after_n_more_calls, retry_after)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.rate_limit: RateLimit | None = None  # per chat

    # Lifecycle -------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # Scripting -------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (an `update_id` is assigned if missing)."""
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        self._new_update.set()
        return update

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def fail(self, method: str, *, retry_after: int, after: int = 0) -> None:
        """Answer 429 with `retry_after` to the call of `method` that comes `after` calls from
        now."""
        self._failures.append((method, after, retry_after))

    def block(self, chat_id: int | str) -> None:
        self.blocked.add(str(chat_id))

    def add_file(self, file_id: str, data: bytes, *, size: int | None = None) -> StoredFile:
        stored = StoredFile(file_id, f"documents/{file_id}.bin", data, size or len(data))
        self.files[file_id] = stored
        return stored

    # Reading the log -------------------------------------------------------

    def sent(self, method: str | None = None, *, ok_only: bool = True) -> list[Call]:
        return [
            c
            for c in self.calls
            if (method is None or c.method == method) and (c.status == 200 or not ok_only)
        ]

    def outgoing(self) -> list[Call]:
        """Calls that put something in a chat (messages, edits, media), successful ones."""
        names = {"sendMessage", "editMessageText", "sendPhoto", "sendDocument"}
        return [c for c in self.calls if c.method in names and c.status == 200]

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        return self._messages.get((str(chat_id), message_id))

    # HTTP ------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(time.monotonic(), method, params)
        self.calls.append(call)
        failure = self._take_failure(method)
        if failure is None and self.rate_limit is not None and call.chat_id:
            wait = self.rate_limit.retry_after(call.chat_id)
            failure = None if wait is None else whole_seconds(wait)
        if failure is not None:
            call.status = 429
            return _error(
                429, f"Too Many Requests: retry after {failure}", {"retry_after": failure}
            )
        if call.chat_id in self.blocked and method != "answerCallbackQuery":
            call.status = 403
            return _error(403, "Forbidden: bot was blocked by the user")
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            call.status = 404
            return _error(404, "Not Found")
        try:
            result = await handler(params)
        except ValueError as err:
            call.status, call.refusal = 400, str(err)
            return _error(400, call.refusal)
        return web.json_response({"ok": True, "result": result})

    def _take_failure(self, method: str) -> int | None:
        for i, (name, after, retry_after) in enumerate(self._failures):
            if name != method:
                continue
            if after > 0:
                self._failures[i] = (name, after - 1, retry_after)
                return None
            del self._failures[i]
            return retry_after
        return None

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.path == path:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return web.Response(status=404)

    # Methods ---------------------------------------------------------------

    async def _m_getMe(self, p: dict[str, Any]) -> dict[str, Any]:
        return bot_user()

    async def _m_getUpdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(p.get("offset", 0) or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(p.get("timeout", 0) or 0)
        if not self._updates and timeout > 0:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_update.wait(), timeout)
        limit = int(p.get("limit", 100) or 100)
        return self._updates[:limit]

    async def _m_deleteWebhook(self, p: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    async def _m_setWebhook(self, p: dict[str, Any]) -> bool:
        self.webhook = dict(p)
        return True

    async def _m_getMyCommands(self, p: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands.get(_scope_key(p), [])

    async def _m_setMyCommands(self, p: dict[str, Any]) -> bool:
        for command in p["commands"]:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise ValueError("Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise ValueError("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[_scope_key(p)] = list(p["commands"])
        return True

    async def _m_answerCallbackQuery(self, p: dict[str, Any]) -> bool:
        return True

    async def _m_getChatMember(self, p: dict[str, Any]) -> dict[str, Any]:
        who = int(p["user_id"])
        if (int(p["chat_id"]), who) in self.admins:
            return {"status": "creator", "user": user(who), "is_anonymous": False}
        return {"status": "member", "user": user(who)}

    async def _m_sendChatAction(self, p: dict[str, Any]) -> bool:
        return True

    async def _m_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        text = str(p.get("text", ""))
        visible = parse_html(text) if p.get("parse_mode") == "HTML" else text
        if not visible.strip():
            raise ValueError("Bad Request: message text is empty")
        if len(visible) > MAX_TEXT:
            raise ValueError("Bad Request: message is too long")
        _check_keyboard(p)
        return self._store(p, {"text": visible})

    async def _m_editMessageText(self, p: dict[str, Any]) -> dict[str, Any]:
        key = (str(p["chat_id"]), int(p["message_id"]))
        stored = self._messages.get(key)
        if stored is None:
            raise ValueError("Bad Request: message to edit not found")
        text = str(p.get("text", ""))
        visible = parse_html(text) if p.get("parse_mode") == "HTML" else text
        if len(visible) > MAX_TEXT:
            raise ValueError("Bad Request: MESSAGE_TOO_LONG")
        _check_keyboard(p)
        markup = p.get("reply_markup")
        if visible == stored.get("text") and markup == stored.get("reply_markup"):
            raise ValueError(
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message"
            )
        stored["text"] = visible
        stored["edit_date"] = int(time.time())
        if markup is not None:
            stored["reply_markup"] = markup
        else:
            stored.pop("reply_markup", None)
        return stored

    async def _m_sendPhoto(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._media(p, "photo")

    async def _m_sendDocument(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._media(p, "document")

    async def _m_getFile(self, p: dict[str, Any]) -> dict[str, Any]:
        stored = self.files.get(str(p["file_id"]))
        if stored is None:
            raise ValueError("Bad Request: invalid file_id")
        if stored.size > 20 * 1024 * 1024:
            raise ValueError("Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": f"u{stored.file_id}",
            "file_size": stored.size,
            "file_path": stored.path,
        }

    def _media(self, p: dict[str, Any], kind: str) -> dict[str, Any]:
        upload = p.get(kind)
        if not isinstance(upload, _Upload):
            raise ValueError(f"Bad Request: there is no {kind} in the request")
        caption = str(p.get("caption", ""))
        visible = parse_html(caption) if p.get("parse_mode") == "HTML" else caption
        if len(visible) > MAX_CAPTION:
            raise ValueError("Bad Request: message caption is too long")
        _check_keyboard(p)
        extra: dict[str, Any] = {"caption": visible} if visible else {}
        file_id = f"{kind}-{len(self.files) + 1}"
        self.add_file(file_id, upload.data)
        if kind == "photo":
            extra["photo"] = [
                {"file_id": file_id, "file_unique_id": file_id, "width": 1, "height": 1}
            ]
        else:
            extra["document"] = {
                "file_id": file_id,
                "file_unique_id": file_id,
                "file_name": upload.filename,
                "file_size": len(upload.data),
            }
        return self._store(p, extra)

    def _store(self, p: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
        chat_id = str(p["chat_id"])
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat_for(int(chat_id)),
            "from": bot_user(),
            **content,
        }
        if p.get("reply_markup") is not None:
            message["reply_markup"] = p["reply_markup"]
        if p.get("message_thread_id"):
            message["message_thread_id"] = int(p["message_thread_id"])
        self._messages[(chat_id, message["message_id"])] = message
        return message


@dataclass
class _Upload:
    filename: str
    data: bytes


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        body: dict[str, Any] = await request.json()
        return body
    params: dict[str, Any] = {}
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                params[part.name] = _Upload(part.filename, await part.read())
            else:
                params[part.name] = _value(await part.text())
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = params.pop(value.removeprefix("attach://"), value)
        return params
    form = await request.post()
    for key, value in form.items():
        params[key] = _value(str(value))
    return params


def _value(raw: str) -> Any:
    if raw[:1] in ("{", "["):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def _scope_key(p: dict[str, Any]) -> str:
    scope = p.get("scope") or {"type": "default"}
    return str(scope.get("type", "default"))


def _check_keyboard(p: dict[str, Any]) -> None:
    markup = p.get("reply_markup")
    if not markup:
        return
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise ValueError("Bad Request: BUTTON_DATA_INVALID")


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


# Real-shaped update payloads -----------------------------------------------

_ids = itertools.count(5000)


def bot_user() -> dict[str, Any]:
    return {
        "id": BOT_ID,
        "is_bot": True,
        "first_name": "Teddy",
        "username": BOT_USERNAME,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


def user(user_id: int, first_name: str = "Alice", language_code: str = "en") -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "username": first_name.lower(),
        "language_code": language_code,
    }


def chat_for(chat_id: int, title: str = "Study group") -> dict[str, Any]:
    if chat_id < 0:
        return {"id": chat_id, "type": "supergroup", "title": title}
    return {"id": chat_id, "type": "private", "first_name": "Alice"}


def message_update(
    sender: dict[str, Any],
    text: str = "",
    *,
    chat_id: int | None = None,
    title: str = "Study group",
    **extra: Any,
) -> dict[str, Any]:
    """A `message` update as Telegram sends it, with `bot_command`/`mention` entities."""
    chat = chat_for(chat_id if chat_id is not None else sender["id"], title)
    message: dict[str, Any] = {
        "message_id": next(_ids),
        "from": sender,
        "chat": chat,
        "date": int(time.time()),
        **extra,
    }
    if text:
        key = "caption" if "document" in extra or "photo" in extra else "text"
        message[key] = text
        entities = list(_entities(text))
        if entities:
            message["caption_entities" if key == "caption" else "entities"] = entities
    return {"message": message}


def _entities(text: str) -> Iterator[dict[str, Any]]:
    for m in re.finditer(r"(?<!\S)(/[A-Za-z0-9_]+(?:@\w+)?|@\w+)", text):
        kind = "bot_command" if m.group(1).startswith("/") else "mention"
        if kind == "bot_command" and m.start() != 0:
            continue
        yield {"type": kind, "offset": _utf16(text[: m.start()]), "length": _utf16(m.group(1))}


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def document_update(
    sender: dict[str, Any],
    file: StoredFile,
    name: str,
    mime: str,
    caption: str = "",
    *,
    chat_id: int | None = None,
) -> dict[str, Any]:
    document = {
        "file_id": file.file_id,
        "file_unique_id": f"u{file.file_id}",
        "file_name": name,
        "mime_type": mime,
        "file_size": file.size,
    }
    return message_update(sender, caption, chat_id=chat_id, document=document)


def callback_update(sender: dict[str, Any], data: str, message: dict[str, Any]) -> dict[str, Any]:
    """A button press on `message` (a message the bot sent, from the stand-in's log)."""
    return {
        "callback_query": {
            "id": str(next(_ids)),
            "from": sender,
            "message": message,
            "chat_instance": f"ci{message['chat']['id']}",
            "data": data,
        }
    }


def messages_by_chat(calls: list[Call]) -> dict[str, list[Call]]:
    by_chat: dict[str, list[Call]] = {}
    for call in calls:
        by_chat.setdefault(call.chat_id, []).append(call)
    return by_chat


__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "Call",
    "TelegramStandIn",
    "callback_update",
    "document_update",
    "message_update",
    "parse_html",
    "user",
]


def photo_update(
    sender: dict[str, Any], file: StoredFile, caption: str = "", *, chat_id: int | None = None
) -> dict[str, Any]:
    """A photo message: Telegram sends the sizes it made, smallest first (here a thumbnail
    that is never fetched, and the original)."""
    sizes = [
        {"file_id": "thumb-" + file.file_id, "file_unique_id": "t", "width": 90, "height": 60},
        {
            "file_id": file.file_id,
            "file_unique_id": f"u{file.file_id}",
            "width": 1280,
            "height": 853,
            "file_size": file.size,
        },
    ]
    return message_update(sender, caption, chat_id=chat_id, photo=sizes)
