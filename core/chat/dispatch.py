"""The one entry from every adapter into the core: an `Incoming` in, replies out."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from core.chat.context import Ctx, Emit, Services
from core.chat.messages import Conversation, Incoming, Reply, ReplyBatch, Sender
from core.chat.router import MAX_SUGGESTIONS, HandlerResult, Router, Suggestion, parse_command
from core.db import Database
from core.errors import TeddyError, WarmUpFirst
from core.identity import service as identity
from core.logs import correlation

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 20_000

INTERNAL_ERROR = (
    "Sorry, something went wrong on my side and nothing was saved. Please try again in a moment."
)


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
            return await self._handle(incoming, emit)

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
        if found is None:
            return []
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
        if len(incoming.text) > MAX_MESSAGE_CHARS:
            return Reply.text(
                f"That message is too long ({len(incoming.text):,} characters; the limit is "
                f"{MAX_MESSAGE_CHARS:,}). Send it in parts, or attach it as a file."
            )
        if incoming.action is not None:
            name, _, payload = incoming.action.partition(":")
            handler = self.router.actions.get(name)
            if handler is None:
                return Reply.text("That button has expired. Try the command again.")
            return await handler(ctx, payload)
        command = parse_command(incoming.text)
        if command is not None:
            return await self._command(ctx, *command)
        if incoming.attachments and self.router.file_handler is not None:
            return await self.router.file_handler(ctx, incoming.text)
        addressed = incoming.chat.is_direct or incoming.mentioned
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


def _as_list(result: HandlerResult) -> Sequence[Reply]:
    if result is None:
        return []
    if isinstance(result, Reply):
        return [result]
    return result
