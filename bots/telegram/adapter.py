"""The Telegram adapter on python-telegram-bot: updates in, replies and notifications out.

It holds no business rule: `translate` turns an update into a core `Incoming`, the core's
`Dispatcher` decides everything, and `render` turns each `Reply` into Telegram messages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from telegram import ChatMember, LinkPreviewOptions, Message, Update
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bots.delivery import TELEGRAM_PACE, Deliverer, RetryLater, Unreachable
from bots.live import LiveKey, LiveMemory
from bots.telegram.commands import register_commands
from bots.telegram.live import LiveEdits, retry_seconds, showing
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
from core.dispatch.gateway import Gateway
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage
from core.rooms.pubsub import RoomEvent
from core.settings import Settings

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 8
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


class TelegramAdapter:
    """Connects one PTB `Application` to the core."""

    def __init__(
        self,
        core: Gateway,
        application: AnyApplication,
        *,
        edit_interval: float = 1.0,
    ) -> None:
        self.core = core
        self.application = application
        self.live = LiveEdits(edit_interval)
        self.memory = LiveMemory()
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

    async def edit(self, chat_id: int | str, message_id: str, message: TextMessage) -> bool:
        """`edit_now`, waiting out a flood-control answer (twice at most)."""
        for _ in range(2):
            try:
                return await self.edit_now(chat_id, message_id, message)
            except RetryAfter as err:
                await asyncio.sleep(retry_seconds(err))
        return await self.edit_now(chat_id, message_id, message)

    async def show(
        self,
        chat_id: int | str,
        thread_id: int | None,
        reply: Reply,
        *,
        edit_of: str | None = None,
        patient: bool = True,
    ) -> str | None:
        """Show a reply in a chat: the one way a reply reaches Telegram, for the replies to
        an update and for outbox rows alike. A live reply edits `edit_of` (its message) when
        that is still there, else it is sent anew; other replies are sent part by part.
        `patient` waits out flood control; the outbox deliverer (not patient) paces itself
        on the `RetryAfter`. Returns the id of the last message sent or edited."""
        if reply.live_id is not None:
            message = render_live(reply)
            key = (str(chat_id), reply.live_id)
            edit = self.edit if patient else self.edit_now
            if edit_of is not None and await edit(chat_id, edit_of, message):
                message_id = edit_of
            else:
                sent = await (self.send if patient else self.send_now)(chat_id, thread_id, message)
                message_id = str(sent.message_id)
                self.live.sent(key)
            self.memory.showed(key, message_id, showing(message))
            return message_id
        last: Message | None = None
        for part in render(reply):
            last = await (self.send if patient else self.send_now)(chat_id, thread_id, part)
        return str(last.message_id) if last is not None else None

    async def show_live(
        self,
        chat_id: int,
        thread_id: int | None,
        reply: Reply,
        shown: dict[LiveKey, tuple[str, str]] | None = None,
    ) -> LiveKey:
        """A live reply to an update: sent the first time, edited in place afterwards at
        the live pace. `shown` holds what this update has put in its live messages: an edit
        to the same is skipped (Telegram refuses it as "message is not modified", and it
        spends the chat's rate budget)."""
        shown = {} if shown is None else shown
        assert reply.live_id is not None
        key = (str(chat_id), reply.live_id)
        look = showing(render_live(reply))
        if await self._live_message_id(key) is None:
            await self._remember_live(key, await self.show(chat_id, thread_id, reply))
            shown[key] = look
            return key

        async def edit() -> None:
            if shown.get(key) == look:
                return
            known = await self._live_message_id(key)
            message_id = await self.show(chat_id, thread_id, reply, edit_of=known)
            if message_id != known:
                await self._remember_live(key, message_id)
            shown[key] = look

        self.live.schedule(key, edit)
        return key

    async def show_room_event(self, event: RoomEvent) -> None:
        """A room event: edit its live message at once (at the live pace), unless it shows
        that already or was never sent (then the reply or the outbox sends it)."""
        key = (event.chat_id, event.live_id)
        message = render_live(event.reply())
        look = showing(message)
        if self.memory.showing(key, look):
            return
        message_id = await self._live_message_id(key)
        if message_id is None:
            return

        async def edit() -> None:
            if not self.memory.showing(key, look) and await self.edit(
                event.chat_id, message_id, message
            ):
                self.memory.showed(key, message_id, look)

        self.live.schedule(key, edit)

    async def _live_message_id(self, key: LiveKey) -> str | None:
        cached = self.memory.ids.get(key)
        if cached is not None:
            return cached
        async with self.core.db.transaction() as session:
            found = await outbox.live_message_id(session, PLATFORM, key[0], key[1])
        if found is not None:
            self.memory.ids.put(key, found)
        return found

    async def _remember_live(self, key: LiveKey, message_id: str | None) -> None:
        if message_id is None:
            return
        async with self.core.db.transaction() as session:
            await outbox.remember_live_message(session, PLATFORM, key[0], key[1], message_id)
        self.memory.ids.put(key, message_id)

    # Notifications ---------------------------------------------------------

    async def deliver(self, row: OutboxMessage, edit_of: str | None) -> str | None:
        """Send one outbox row (the `bots.delivery` callback)."""
        try:
            reply = outbox.as_reply(row)
            return await self.show(row.chat_id, None, reply, edit_of=edit_of, patient=False)
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
        await register_commands(self.bot, self.core.dispatcher.router)


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
                key = await self.adapter.show_live(chat_id, thread_id, reply, self.shown)
                self.live_keys.add(key)
                return
            await self.finish()  # a live message's last state shows before what follows it
            await self.adapter.show(chat_id, thread_id, reply)
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
