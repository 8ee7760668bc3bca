"""The Telegram adapter on python-telegram-bot: updates in, replies and notifications out.

It holds no business rule: `translate` turns an update into a core `Incoming`, the core's
`Dispatcher` decides everything, and `render` turns each `Reply` into Telegram messages."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeDefault,
    ChatMember,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bots.delivery import TELEGRAM_PACE, Deliverer, RetryLater, Unreachable
from bots.telegram.render import (
    DocumentMessage,
    Outgoing,
    PhotoMessage,
    TextMessage,
    render,
    render_live,
)
from bots.telegram.translate import PLATFORM, BotIdentity, Translated, translate
from core.chat.messages import AdminCheck, Reply
from core.chat.router import CommandSpec
from core.dispatch.gateway import Core
from core.notify import service as outbox
from core.notify.models import OutboxMessage
from core.settings import Settings

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 8
MAX_COMMANDS = 100
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
TOO_LARGE = (
    "“{names}” is over 20 MB, the most a Telegram bot can download. "
    "Send a smaller file (split the PDF, or compress it) and I'll take it from there."
)
DM_FIRST = (
    "I can't message you privately yet: open a chat with @{bot}, press Start, then try again here."
)


def api_urls(base: str) -> tuple[str, str]:
    """PTB's `base_url` and `base_file_url` for a Bot API server root (the token is appended
    by PTB)."""
    root = base.rstrip("/").removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def build_application(settings: Settings, *, polling: bool = True) -> AnyApplication:
    """A PTB `Application` for the configured token and Bot API server. Without polling,
    updates arrive only through `update_queue` (the webhook)."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    base_url, base_file_url = api_urls(settings.telegram_api_base_url)
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(base_url)
        .base_file_url(base_file_url)
        .concurrent_updates(CONCURRENT_UPDATES)
    )
    if not polling:
        builder = builder.updater(None)
    return builder.build()


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


class TelegramAdapter:
    """Connects one PTB `Application` to the core."""

    def __init__(
        self,
        core: Core,
        application: AnyApplication,
        *,
        edit_interval: float = 1.0,
    ) -> None:
        self.core = core
        self.application = application
        self.live = LiveEdits(edit_interval)
        self._live_ids: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._turns: dict[int, tuple[asyncio.Lock, int]] = {}
        application.add_handler(TypeHandler(Update, self.on_update))
        application.add_error_handler(self._on_error)

    @property
    def bot(self) -> Any:
        return self.application.bot

    def identity(self) -> BotIdentity:
        return BotIdentity(self.bot.id, self.bot.username)

    # Updates in ------------------------------------------------------------

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        translated = translate(update, self.identity(), self._fetcher, self._admin_check)
        if translated is None:
            return
        if translated.callback_query_id is not None:
            await self._answer_callback(translated.callback_query_id)
        output = ChatOutput(self, translated)
        async with self._chat_turn(translated.chat_id):
            if translated.too_large:
                names = ", ".join(translated.too_large)
                await output.emit(Reply.text(TOO_LARGE.format(names=names)))
            else:
                await self.core.dispatcher.handle(translated.incoming, output.emit)
            await output.finish()

    def _fetcher(self, file_id: str) -> Callable[[], Awaitable[bytes]]:
        async def fetch() -> bytes:
            file = await self.bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())

        return fetch

    def _admin_check(self, chat_id: int, user_id: int) -> AdminCheck:
        async def ask() -> bool | None:
            try:
                member = await self.bot.get_chat_member(chat_id, user_id)
            except TelegramError as err:
                log.warning("getChatMember for %s in %s failed: %s", user_id, chat_id, err)
                return None  # unknown: the core falls back to what it knew
            return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)

        return ask

    async def _answer_callback(self, query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except BadRequest as err:  # too old to answer: the press is still handled
            log.info("callback query %s not answered: %s", query_id, err)

    @asynccontextmanager
    async def _chat_turn(self, chat_id: int) -> AsyncIterator[None]:
        """Updates from one chat are handled in arrival order; chats run concurrently."""
        lock, users = self._turns.get(chat_id, (asyncio.Lock(), 0))
        self._turns[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._turns[chat_id]
            if users <= 1:
                del self._turns[chat_id]
            else:
                self._turns[chat_id] = (lock, users - 1)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed", exc_info=context.error)

    # Messages out ----------------------------------------------------------

    async def send(self, chat_id: int | str, thread_id: int | None, message: Outgoing) -> Message:
        """Send one message, waiting out a flood-control answer (twice at most)."""
        for _ in range(2):
            try:
                return await self.send_now(chat_id, thread_id, message)
            except RetryAfter as err:
                await asyncio.sleep(retry_seconds(err))
        return await self.send_now(chat_id, thread_id, message)

    async def send_now(
        self, chat_id: int | str, thread_id: int | None, message: Outgoing
    ) -> Message:
        common: dict[str, Any] = {"chat_id": chat_id, "reply_markup": message.keyboard}
        if thread_id is not None:
            common["message_thread_id"] = thread_id
        if isinstance(message, TextMessage):
            result: Message = await self.bot.send_message(
                text=message.html, parse_mode="HTML", link_preview_options=NO_PREVIEW, **common
            )
        elif isinstance(message, PhotoMessage):
            result = await self.bot.send_photo(
                photo=message.data,
                filename=message.name,
                caption=message.caption_html or None,
                parse_mode="HTML",
                **common,
            )
        else:
            result = await self.bot.send_document(
                document=message.data,
                filename=message.name,
                caption=message.caption_html or None,
                parse_mode="HTML",
                **common,
            )
        return result

    async def edit_now(self, chat_id: int | str, message_id: str, message: TextMessage) -> bool:
        """Edit a sent text message; False when it is gone and must be sent anew."""
        try:
            await self.bot.edit_message_text(
                text=message.html,
                chat_id=chat_id,
                message_id=int(message_id),
                parse_mode="HTML",
                reply_markup=message.keyboard,
                link_preview_options=NO_PREVIEW,
            )
        except BadRequest as err:
            if "not modified" in err.message.lower():
                return True
            log.info("live message %s in %s not editable: %s", message_id, chat_id, err)
            return False
        return True

    async def show_live(
        self,
        chat_id: int,
        thread_id: int | None,
        live_id: str,
        message: TextMessage,
        shown: dict[tuple[str, str], tuple[str, str]] | None = None,
    ) -> tuple[str, str]:
        """Send a live message the first time, edit it in place afterwards. `shown` holds
        what this update has put in its live messages: an edit to the same is skipped
        (Telegram refuses it as "message is not modified", and it spends the chat's rate
        budget). Only within one update: another process may have edited it since."""
        shown = {} if shown is None else shown
        key = (str(chat_id), live_id)
        message_id = await self._live_message_id(key)
        if message_id is None:
            await self._send_live(key, chat_id, thread_id, message)
            shown[key] = showing(message)
            return key

        async def edit() -> None:
            if shown.get(key) == showing(message):
                return
            for _ in range(2):
                try:
                    if not await self.edit_now(chat_id, message_id, message):
                        await self._send_live(key, chat_id, thread_id, message)
                    shown[key] = showing(message)
                    return
                except RetryAfter as err:
                    await asyncio.sleep(retry_seconds(err))

        self.live.schedule(key, edit)
        return key

    async def _send_live(
        self, key: tuple[str, str], chat_id: int, thread_id: int | None, message: TextMessage
    ) -> None:
        sent = await self.send(chat_id, thread_id, message)
        self.live.sent(key)
        await self._remember_live(key, str(sent.message_id))

    async def _live_message_id(self, key: tuple[str, str]) -> str | None:
        cached = self._live_ids.get(key)
        if cached is not None:
            return cached
        async with self.core.db.transaction() as session:
            found = await outbox.live_message_id(session, PLATFORM, key[0], key[1])
        if found is not None:
            self._cache_live(key, found)
        return found

    async def _remember_live(self, key: tuple[str, str], message_id: str) -> None:
        async with self.core.db.transaction() as session:
            await outbox.remember_live_message(session, PLATFORM, key[0], key[1], message_id)
        self._cache_live(key, message_id)

    def _cache_live(self, key: tuple[str, str], message_id: str) -> None:
        self._live_ids[key] = message_id
        self._live_ids.move_to_end(key)
        while len(self._live_ids) > 10_000:
            self._live_ids.popitem(last=False)

    # Notifications ---------------------------------------------------------

    async def deliver(self, row: OutboxMessage, edit_of: str | None) -> str | None:
        """Send one outbox row (the `bots.delivery` callback)."""
        reply = outbox.as_reply(row)
        try:
            if row.live_id is not None:
                message = render_live(reply)
                if edit_of is not None and await self.edit_now(row.chat_id, edit_of, message):
                    self._cache_live((row.chat_id, row.live_id), edit_of)
                    return edit_of
                sent = await self.send_now(row.chat_id, None, message)
                self._cache_live((row.chat_id, row.live_id), str(sent.message_id))
                return str(sent.message_id)
            last: Message | None = None
            for part in render(reply):
                last = await self.send_now(row.chat_id, None, part)
            return str(last.message_id) if last is not None else None
        except RetryAfter as err:
            raise RetryLater(retry_seconds(err)) from err
        except Forbidden as err:
            raise Unreachable(err.message) from err

    def deliverer(self) -> Deliverer:
        return Deliverer(
            self.core.db, self.core.services.clock, PLATFORM, self.deliver, TELEGRAM_PACE
        )

    # Command list ----------------------------------------------------------

    async def register_commands(self) -> None:
        """Publish the router's commands (direct chats: all but room-only ones; groups: all),
        only where the list Telegram has differs."""
        specs = [s for s in self.core.dispatcher.router.specs() if _valid_name(s.name)]
        lists = (
            (BotCommandScopeDefault(), [s for s in specs if not s.rooms_only]),
            (BotCommandScopeAllGroupChats(), specs),
        )
        for scope, chosen in lists:
            commands = [_bot_command(s) for s in chosen[:MAX_COMMANDS]]
            current = await self.bot.get_my_commands(scope=scope)
            if [(c.command, c.description) for c in current] != [
                (c.command, c.description) for c in commands
            ]:
                await self.bot.set_my_commands(commands, scope=scope)


def _valid_name(name: str) -> bool:
    return 1 <= len(name) <= 32 and all(c.isascii() and (c.isalnum() or c == "_") for c in name)


def _bot_command(spec: CommandSpec) -> BotCommand:
    description = (spec.summary or spec.usage).strip()[:256] or spec.name
    return BotCommand(spec.name.lower(), description)


class ChatOutput:
    """Where the replies to one update go: the chat it came from (or, for a private reply
    in a group, the speaker's direct chat)."""

    def __init__(self, adapter: TelegramAdapter, translated: Translated) -> None:
        self.adapter = adapter
        self.translated = translated
        self.live_keys: set[tuple[str, str]] = set()
        self.shown: dict[tuple[str, str], tuple[str, str]] = {}  # see `show_live`

    async def emit(self, reply: Reply) -> None:
        t = self.translated
        private = reply.private and not t.incoming.chat.is_direct
        chat_id = t.user_id if private else t.chat_id
        thread_id = None if private else t.thread_id
        try:
            if reply.live_id is not None:
                key = await self.adapter.show_live(
                    chat_id, thread_id, reply.live_id, render_live(reply), self.shown
                )
                self.live_keys.add(key)
                return
            await self.finish()  # a live message's last state shows before what follows it
            for message in render(reply):
                await self.adapter.send(chat_id, thread_id, message)
        except Forbidden:
            if not private:
                raise
            username = self.adapter.identity().username
            note = TextMessage(DM_FIRST.format(bot=username))
            await self.adapter.send(t.chat_id, t.thread_id, note)

    async def finish(self) -> None:
        """Wait for this update's live edits to reach Telegram."""
        await self.adapter.live.flush(self.live_keys)


__all__ = [
    "ChatOutput",
    "DocumentMessage",
    "TelegramAdapter",
    "api_urls",
    "build_application",
]
