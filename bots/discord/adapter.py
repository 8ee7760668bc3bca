"""Discord events, slash commands and button clicks in; messages, embeds and views out.

Every core command is a slash command whose options come from the command's declared
parameters (`bots.discord.commands`); buttons are `DynamicItem`s whose custom id carries
the core action id, so a button keeps working after the bot restarts. Nothing here decides
anything: that is the core's work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Mapping
from typing import Any

import discord

from bots.delivery import Deliverer, Pace, RetryLater, Unreachable
from bots.discord.commands import TeddyCommandTree, register_slash_commands
from bots.discord.render import ACTION_PREFIX, Message, render
from bots.discord.translate import (
    PLATFORM,
    USER_ADDRESS,
    attachment_of,
    conversation_of,
    interaction_admin,
    member_admin,
    sender_of,
)
from bots.live import LiveMemory
from core.chat.context import Emit
from core.chat.messages import Incoming, Reply
from core.chat.router import CommandSpec, Suggestion
from core.dispatch.gateway import Gateway
from core.identity import service as identity
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage
from core.rooms import voice
from core.rooms.pubsub import RoomEvent

log = logging.getLogger(__name__)

CANNOT_MESSAGE_USER = 50007
DEFER_AFTER_SECONDS = 2.0
# Discord allows about 5 messages per 5 s in one channel and 50 requests/s per bot; discord.py
# also waits out any 429 itself.
DISCORD_PACE = Pace(
    per_second=40, chat_interval=1.0, group_per_minute=60
)  # Discord wants the first answer to an interaction within 3 s.


class TeddyButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"t:(?P<action>.+)"):
    """Any button Teddy ever sent; clicking it sends its core action to the core."""

    def __init__(self, action: str) -> None:
        super().__init__(discord.ui.Button(label="·", custom_id=f"{ACTION_PREFIX}{action}"))
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> TeddyButton:
        return cls(match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        assert isinstance(client, TeddyDiscord)
        await client.handle_button(interaction, self.action)


class TeddyDiscord(discord.AutoShardedClient):
    def __init__(
        self, core: Gateway, *, shard_ids: list[int] | None = None, shard_count: int | None = None
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        sharding: dict[str, Any] = {}
        if shard_ids is not None:  # this process runs a slice of the shards
            sharding = {"shard_ids": shard_ids, "shard_count": shard_count}
        super().__init__(
            intents=intents, allowed_mentions=discord.AllowedMentions.none(), **sharding
        )
        self.core = core
        self.memory = LiveMemory()
        self.tree = TeddyCommandTree(self)
        register_slash_commands(self.tree, core.dispatcher.router, self.handle_slash, self.suggest)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(TeddyButton)

    # Inbound ------------------------------------------------------------------

    async def handle_slash(
        self,
        interaction: discord.Interaction[Any],
        spec: CommandSpec,
        values: Mapping[str, object],
    ) -> None:
        incoming = Incoming(
            sender_of(interaction.user),
            conversation_of(interaction.channel),
            text=spec.text_for(values),
            event_id=f"i:{interaction.id}",
            mentioned=True,
            sender_is_admin=interaction_admin(interaction),
        )
        await InteractionReplies(self, interaction).run(incoming)

    async def handle_button(self, interaction: discord.Interaction[Any], action: str) -> None:
        incoming = Incoming(
            sender_of(interaction.user),
            conversation_of(interaction.channel),
            action=action,
            event_id=f"i:{interaction.id}",
            mentioned=True,
            sender_is_admin=interaction_admin(interaction),
        )
        await InteractionReplies(self, interaction).run(incoming)

    async def suggest(
        self, interaction: discord.Interaction[Any], source: str, typed: str
    ) -> list[Suggestion]:
        """Autocomplete: what the core offers this person in this channel."""
        return await self.core.dispatcher.suggest(
            sender_of(interaction.user), conversation_of(interaction.channel), source, typed
        )

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None:
            return
        is_dm = message.guild is None
        mentioned = self.user in message.mentions
        if not is_dm and not mentioned:
            return
        text = re.sub(rf"<@!?{self.user.id}>", "", message.content).strip()
        incoming = Incoming(
            sender_of(message.author),
            conversation_of(message.channel),
            text=text,
            attachments=tuple(attachment_of(a) for a in message.attachments),
            event_id=f"m:{message.id}",
            mentioned=mentioned or is_dm,
            sender_is_admin=None if is_dm else member_admin(message.channel, message.author),
        )
        channel = message.channel
        with contextlib.suppress(discord.HTTPException):
            await channel.typing()
        await self.core.dispatcher.handle(incoming, self.channel_emitter(channel))

    async def on_voice_state_update(
        self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState
    ) -> None:
        if member.bot or before.channel == after.channel:
            return  # mute/deafen changes are not moves
        left = conversation_of(before.channel) if before.channel is not None else None
        joined = conversation_of(after.channel) if after.channel is not None else None
        async with self.core.db.transaction() as session:
            await voice.voice_moved(
                session,
                person=sender_of(member),
                left=left,
                joined=joined,
                at=self.core.services.clock.now(),
                default_timezone=self.core.settings.default_timezone,
            )

    async def voice_heartbeat(self) -> None:
        """Report everyone in a voice channel now, so sessions whose leave event was lost
        end close to the truth."""
        now = self.core.services.clock.now()
        async with self.core.db.transaction() as session:
            for guild in self.guilds:
                for channel in guild.voice_channels:
                    people = [sender_of(m) for m in channel.members if not m.bot]
                    if people:
                        await voice.voice_present(
                            session, channel=conversation_of(channel), people=people, at=now
                        )

    async def run_voice_heartbeats(self, stop: asyncio.Event, every: float = 120.0) -> None:
        while not stop.is_set():
            try:
                await self.voice_heartbeat()
            except Exception:
                log.exception("voice heartbeat failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    # Outbound -----------------------------------------------------------------

    def channel_emitter(self, channel: discord.abc.Messageable) -> Emit:
        channel_id = str(getattr(channel, "id", ""))

        async def emit(reply: Reply) -> None:
            known = None
            if reply.live_id is not None:
                known = await self.live_message_id(channel_id, reply.live_id)
            shown = await self.show(channel, channel_id, reply, edit_of=known)
            if reply.live_id is not None and shown is not None and shown != known:
                await self.remember_live(channel_id, reply.live_id, shown)

        return emit

    async def show(
        self,
        channel: discord.abc.Messageable,
        channel_id: str,
        reply: Reply,
        *,
        edit_of: str | None = None,
    ) -> str | None:
        """Show a reply in a channel: the one way a reply reaches a channel, for messages
        and outbox rows alike (an interaction answers through its own response). A live
        reply edits `edit_of`, its message; others are sent, several messages if long.
        Returns the id of the last message sent or edited."""
        messages = render(reply)
        if edit_of is not None:
            target = self.get_partial_messageable(int(channel_id)).get_partial_message(int(edit_of))
            await edit_message(target, messages[-1])
            self._showed(channel_id, reply, edit_of, messages[-1])
            return edit_of
        sent: discord.Message | None = None
        for message in messages:
            sent = await channel.send(**send_kwargs(message))
        if sent is None:
            return None
        self._showed(channel_id, reply, str(sent.id), messages[-1])
        return str(sent.id)

    def _showed(self, channel_id: str, reply: Reply, message_id: str, message: Message) -> None:
        if reply.live_id is not None:
            self.memory.showed((channel_id, reply.live_id), message_id, looks(message))

    async def show_room_event(self, event: RoomEvent) -> None:
        """A room event: edit its live message at once, unless it shows that already or
        was never sent (then the reply or the outbox sends it)."""
        if self.shard_ids is not None and self.get_channel(int(event.chat_id)) is None:
            return  # another process runs the shard of this channel's server
        key = (event.chat_id, event.live_id)
        message = render(event.reply())[-1]
        if self.memory.showing(key, looks(message)):
            return
        message_id = await self.live_message_id(event.chat_id, event.live_id)
        if message_id is None:
            return
        channel = self.get_partial_messageable(int(event.chat_id))
        await self.show(channel, event.chat_id, event.reply(), edit_of=message_id)

    async def deliver(self, row: OutboxMessage, edit_of: str | None) -> str | None:
        """Send one outbox row (the `bots.delivery` callback); returns the message id. A row
        for a person seen only in servers opens a DM channel with them first."""
        try:
            channel = await self.delivery_channel(row.chat_id)
            channel_id = str(channel.id)
            sent = await self.show(channel, channel_id, outbox.as_reply(row), edit_of=edit_of)
        except discord.Forbidden as err:
            raise Unreachable(err.text or "forbidden") from err
        except discord.HTTPException as err:
            if err.code == CANNOT_MESSAGE_USER:
                raise Unreachable(err.text or "cannot send messages to this user") from err
            if err.status == 429:
                raise RetryLater(float(err.response.headers.get("Retry-After", "1"))) from err
            raise
        if row.chat_id.startswith(USER_ADDRESS):
            async with self.core.db.transaction() as session:
                await identity.direct_chat_opened(session, PLATFORM, row.chat_id, channel_id)
        return sent

    async def delivery_channel(
        self, chat_id: str
    ) -> discord.PartialMessageable | discord.DMChannel:
        """The channel for an outbox chat id: a channel id, or a person's address, for
        whom a DM channel is opened (discord.py keeps it, so it is opened once)."""
        if not chat_id.startswith(USER_ADDRESS):
            return self.get_partial_messageable(int(chat_id))
        return await self.create_dm(discord.Object(int(chat_id.removeprefix(USER_ADDRESS))))

    def deliverer(self) -> Deliverer:
        return Deliverer(
            self.core.db, self.core.services.clock, PLATFORM, self.deliver, DISCORD_PACE
        )

    async def live_message_id(self, channel_id: str, live_id: str) -> str | None:
        async with self.core.db.transaction() as session:
            return await outbox.live_message_id(session, PLATFORM, channel_id, live_id)

    async def remember_live(self, channel_id: str, live_id: str, message_id: str) -> None:
        async with self.core.db.transaction() as session:
            await outbox.remember_live_message(session, PLATFORM, channel_id, live_id, message_id)


class InteractionReplies:
    """Answers one interaction: the first reply as the interaction response (deferred if the
    core takes longer than Discord's 3 seconds allow), the rest as follow-ups; private
    replies ephemeral; a live reply for the clicked message edits it in place."""

    def __init__(self, client: TeddyDiscord, interaction: discord.Interaction[Any]) -> None:
        self.client = client
        self.interaction = interaction
        self.lock = asyncio.Lock()
        self.channel_id = str(interaction.channel_id or "")

    async def run(self, incoming: Incoming) -> None:
        watchdog = asyncio.create_task(self._defer_if_slow())
        try:
            await self.client.core.dispatcher.handle(incoming, self.emit)
        finally:
            watchdog.cancel()
        async with self.lock:
            if not self.interaction.response.is_done():
                # Nothing to say (e.g. a duplicate event): acknowledge silently.
                await self._defer()
                if self.interaction.type is discord.InteractionType.application_command:
                    await self.interaction.delete_original_response()

    async def _defer_if_slow(self) -> None:
        await asyncio.sleep(DEFER_AFTER_SECONDS)
        async with self.lock:
            if not self.interaction.response.is_done():
                await self._defer()

    async def _defer(self) -> None:
        if self.interaction.type is discord.InteractionType.component:
            await self.interaction.response.defer()
        else:
            await self.interaction.response.defer(thinking=True)

    async def emit(self, reply: Reply) -> None:
        async with self.lock:
            for message in render(reply):
                await self._send(reply, message)

    async def _send(self, reply: Reply, message: Message) -> None:
        response = self.interaction.response
        live_target = await self._live_target(reply)
        clicked = self.interaction.message
        if not response.is_done():
            if live_target is not None and clicked is not None and str(clicked.id) == live_target:
                await response.edit_message(**edit_kwargs(message))
                return
            callback = await response.send_message(ephemeral=reply.private, **send_kwargs(message))
            if reply.live_id is not None and not reply.private and callback.message_id is not None:
                await self.client.remember_live(
                    self.channel_id, reply.live_id, str(callback.message_id)
                )
            return
        if live_target is not None:
            await self.interaction.followup.edit_message(int(live_target), **edit_kwargs(message))
            return
        sent = await self.interaction.followup.send(
            ephemeral=reply.private, wait=True, **send_kwargs(message)
        )
        if reply.live_id is not None and not reply.private:
            await self.client.remember_live(self.channel_id, reply.live_id, str(sent.id))

    async def _live_target(self, reply: Reply) -> str | None:
        if reply.live_id is None:
            return None
        return await self.client.live_message_id(self.channel_id, reply.live_id)


def send_kwargs(message: Message) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "content": message.content or None,
        "embeds": message.embeds,
        "files": message.files,
    }
    if message.view is not None:
        kwargs["view"] = message.view
    return kwargs


def edit_kwargs(message: Message) -> dict[str, Any]:
    return {
        "content": message.content or None,
        "embeds": message.embeds,
        "view": message.view,
        "attachments": message.files,
    }


async def edit_message(target: discord.PartialMessage, message: Message) -> None:
    await target.edit(**edit_kwargs(message))


def looks(message: Message) -> str:
    """What a message shows: its text, embeds and buttons."""
    embeds = [e.to_dict() for e in message.embeds]
    buttons = [item.to_component_dict() for item in message.view.children] if message.view else []
    return repr((message.content, embeds, buttons))
