"""The one entry from every adapter into the core: an `Incoming` in, replies out."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from core.chat.context import Ctx, Emit, Services
from core.chat.messages import Conversation, Incoming, Reply, ReplyBatch, Sender
from core.chat.router import (
    MAX_SUGGESTIONS,
    HandlerResult,
    Router,
    Suggestion,
    forged_number,
    parse_command,
)
from core.db import Database
from core.errors import TeddyError, WarmUpFirst
from core.identity import service as identity
from core.logs import correlation

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 20_000

INTERNAL_ERROR = (
    "Sorry, something went wrong on my side and nothing was saved. Please try again in a moment."
)
UNREADABLE_TEXT = (
    "That message has a broken character in it (half of an emoji or a wrongly encoded "
    "letter), so I can't read it and saved nothing. Please type it again."
)
EXPIRED_BUTTON = "That button has expired. Nothing was done; try the command again."


class Dispatcher:
    def __init__(self, db: Database, router: Router, services: Services) -> None:
        self.db = db
        self.router = router
        self.services = services

    async def handle(self, incoming: Incoming, emit: Emit | None = None) -> list[Reply]:
        """Handle one event and return its replies in order.

        Replies a handler returns are passed to `emit` after its transaction commits, so a
        platform that fails to show them loses nothing that was saved. Live updates a handler
        emits while it works (`ctx.emit`) go out at once. A failing `emit` is logged, never
        turned into a failed command."""
        with correlation():  # jobs this event enqueues carry the same id
            return await self._handle(readable(incoming), emit)

    async def _handle(self, incoming: Incoming, emit: Emit | None) -> list[Reply]:
        batch = ReplyBatch()

        async def out(reply: Reply) -> None:
            batch.replies.append(reply)
            if emit is None:
                return
            try:
                await emit(reply)
            except Exception:
                log.exception("showing a reply on %s failed", incoming.chat.platform)

        final: list[Reply] | None = []
        try:
            try:
                final = await self._in_transaction(incoming, out)
            except WarmUpFirst as cold:
                # Rolled back: load the model holding no connection, then handle it afresh.
                await cold.warm_up()
                final = await self._in_transaction(incoming, out)
        except Exception:
            log.exception("handling %s event failed", incoming.chat.platform)
            final = [Reply.text(INTERNAL_ERROR)]
        if final is None:
            log.info("duplicate event %s/%s skipped", incoming.chat.platform, incoming.event_id)
            return []
        for reply in final:
            await out(reply)
        return batch.replies

    async def _in_transaction(self, incoming: Incoming, out: Emit) -> list[Reply] | None:
        """The handler's replies, committed; None for an event handled before."""
        async with self.db.transaction() as session:
            speaker = await identity.speaker_for_event(
                session,
                incoming.sender,
                incoming.chat,
                self.services.clock.now(),
                event_id=incoming.event_id,
                default_timezone=self.services.settings.default_timezone,
            )
            if speaker is None:
                return None
            ctx = Ctx(
                session, speaker.user, speaker.room, incoming, self.services, out, self.router
            )
            return await self._route(ctx)

    async def suggest(
        self, sender: Sender, chat: Conversation, source: str, typed: str
    ) -> list[Suggestion]:
        """What a suggestion source offers this person in this chat while they type an
        argument. Read-only: nothing is created for a person or room not seen before, and
        a room's things are offered only to its members."""
        found = self.router.sources.get(source)
        if found is None or not _encodable(typed):
            return []
        escaped = readable(Incoming(sender, chat))
        sender, chat = escaped.sender, escaped.chat
        async with self.db.transaction() as session:
            user = await identity.known_user(session, sender)
            if user is None:
                return []
            room = None if chat.is_direct else await identity.known_room(session, chat, user)
            try:
                suggestions = await found(session, user, room, typed)
            except TeddyError:
                return []  # e.g. not allowed to see the room's things: nothing to offer
        return suggestions[:MAX_SUGGESTIONS]

    async def _route(self, ctx: Ctx) -> list[Reply]:
        try:
            async with ctx.session.begin_nested():
                result = await self._call_handler(ctx)
        except TeddyError as err:
            # The savepoint rolled back the handler's writes; the event stays marked.
            return [Reply.text(err.message)]
        return list(_as_list(result))

    async def _call_handler(self, ctx: Ctx) -> HandlerResult:
        incoming = ctx.incoming
        if not _encodable(incoming.text) or not _encodable(incoming.action or ""):
            return Reply.text(UNREADABLE_TEXT)
        if len(incoming.text) > MAX_MESSAGE_CHARS:
            return Reply.text(
                f"That message is too long ({len(incoming.text):,} characters; the limit is "
                f"{MAX_MESSAGE_CHARS:,}). Send it in parts, or attach it as a file."
            )
        if incoming.action is not None:
            name, _, payload = incoming.action.partition(":")
            handler = self.router.actions.get(name)
            if handler is None or forged_number(payload):
                return Reply.text(EXPIRED_BUTTON)
            return await handler(ctx, payload)
        command = parse_command(incoming.text)
        if command is not None:
            return await self._command(ctx, *command)
        addressed = incoming.chat.is_direct or incoming.mentioned
        if _all_images(incoming) and self.router.photo_handler is not None:
            # A picture shared in a group is for the group unless the bot is addressed.
            return await self.router.photo_handler(ctx, incoming.text) if addressed else None
        if incoming.attachments and self.router.file_handler is not None:
            return await self.router.file_handler(ctx, incoming.text)
        if addressed and incoming.text.strip() and self.router.text_handler is not None:
            return await self.router.text_handler(ctx, incoming.text.strip())
        if addressed and incoming.text.strip():
            return Reply.text("I work with commands. Send /help to see what I can do.")
        return None

    async def _command(self, ctx: Ctx, name: str, args: str) -> HandlerResult:
        spec = self.router.commands.get(name)
        if spec is None:
            if not ctx.incoming.chat.is_direct and not ctx.incoming.mentioned:
                return None  # another bot's command in a shared group
            return Reply.text(f"I don't know /{name}. Send /help to see every command.")
        if spec.rooms_only and ctx.room is None:
            return Reply.text(
                f"/{spec.name} works in a group chat or channel, not in a direct chat."
            )
        return await spec.handler(ctx, args)


def _all_images(incoming: Incoming) -> bool:
    found = incoming.attachments
    return bool(found) and all(a.mime.lower().startswith("image/") for a in found)


def _encodable(text: str) -> bool:
    """False for text with a lone surrogate ("\\ud800", from a JSON escape or a badly
    decoded byte), which no UTF-8 database, log or platform accepts."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _escaped(text: str) -> str:
    return text if _encodable(text) else text.encode("utf-8", "backslashreplace").decode()


def _escaped_or_none(text: str | None) -> str | None:
    return None if text is None else _escaped(text)


def readable(incoming: Incoming) -> Incoming:
    """The event with lone surrogates escaped in what the platform (not the person typing)
    supplies: names, ids and titles are stored before any handler runs, so a broken one
    must not stop the person. The message text and action are left as they are and
    refused with a clear reply."""
    sender = incoming.sender
    chat = incoming.chat
    if _all_encodable(incoming):
        return incoming  # nearly every event: nothing to escape, nothing to copy
    return dataclasses.replace(
        incoming,
        sender=dataclasses.replace(
            sender,
            external_id=_escaped(sender.external_id),
            display_name=_escaped(sender.display_name),
            locale=_escaped(sender.locale),
            direct_address=_escaped_or_none(sender.direct_address),
        ),
        chat=dataclasses.replace(
            chat,
            external_id=_escaped(chat.external_id),
            title=_escaped(chat.title),
            thread_id=_escaped_or_none(chat.thread_id),
        ),
        attachments=tuple(
            dataclasses.replace(a, name=_escaped(a.name)) for a in incoming.attachments
        ),
        event_id=_escaped_or_none(incoming.event_id),
    )


def _all_encodable(incoming: Incoming) -> bool:
    sender, chat = incoming.sender, incoming.chat
    supplied = (
        sender.external_id,
        sender.display_name,
        sender.locale,
        sender.direct_address or "",
        chat.external_id,
        chat.title,
        chat.thread_id or "",
        incoming.event_id or "",
        *(a.name for a in incoming.attachments),
    )
    return _encodable("".join(supplied))


def _as_list(result: HandlerResult) -> Sequence[Reply]:
    if result is None:
        return []
    if isinstance(result, Reply):
        return [result]
    return result
