"""Slack events, slash commands and button clicks in; Block Kit messages out.

One slash command `/teddy <command> ...` reaches every core command; mentions in channels
and direct messages reach the tutor and the commands; buttons carry core action ids as
their value. Nothing here decides anything: that is the core's work.

Two ways to hold tokens: one workspace with SLACK_BOT_TOKEN, or many workspaces that install
the app through OAuth (bolt's flow; installations on our database, see `installations.py`).
With many, every Slack id the core sees is prefixed with its workspace (`T123:C456`), so the
same channel or user id in two workspaces never meets, and a queued notification knows whose
token sends it."""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.delivery import Deliverer, Pace, RetryLater, Unreachable
from bots.live import LiveMemory
from bots.slack.clients import NotInstalled, OAuthConfig, oauth_app, web_client
from bots.slack.installations import (
    DatabaseInstallationStore,
    DatabaseStateStore,
    chat_key,
    split_key,
    workspace_key,
    workspace_of,
)
from bots.slack.render import ACTION_PREFIX, fallback_text, reply_blocks
from core.chat.context import Emit
from core.chat.messages import Attachment, Conversation, Incoming, Reply, Sender
from core.dispatch.gateway import Gateway
from core.installations.sealing import Sealer
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage
from core.rooms.pubsub import RoomEvent

log = logging.getLogger(__name__)

PLATFORM = "slack"
MENTION = re.compile(r"<@[A-Z0-9]+>\s*")
# What the App Home tab shows: the output of these commands, for the user opening it.
HOME_COMMANDS = ("/tasks today", "/decks")
# chat.postMessage: about one message per second per channel; a workspace-wide budget on top.
SLACK_PACE = Pace(per_second=20, chat_interval=1.0, group_per_minute=60)
IGNORED_SUBTYPES = {"bot_message", "message_changed", "message_deleted", "channel_join"}


class SlackAdapter:
    def __init__(
        self,
        core: Gateway,
        *,
        signing_secret: str,
        api_url: str,
        bot_token: str | None = None,
        oauth: OAuthConfig | None = None,
    ) -> None:
        if (bot_token is None) == (oauth is None):
            raise ValueError("give a bot token (one workspace) or OAuth settings (many)")
        self.core = core
        self.api_url = api_url
        self.memory = LiveMemory()
        self.client = self._web_client(bot_token)
        # The deliverer waits out a 429 itself (pausing only that workspace); a client that
        # slept inside the SDK would hold the round and keep sending into the limit.
        self.delivery_client = self._web_client(bot_token, wait_out_rate_limits=False)
        self.installations: DatabaseInstallationStore | None = None
        if oauth is None:
            self.app = AsyncApp(client=self.client, signing_secret=signing_secret)
        else:
            self.app = self._oauth_app(oauth, signing_secret)
        self._register()

    def _web_client(
        self, token: str | None, *, wait_out_rate_limits: bool = True
    ) -> AsyncWebClient:
        return web_client(self.api_url, token, wait_out_rate_limits=wait_out_rate_limits)

    def _oauth_app(self, oauth: OAuthConfig, signing_secret: str) -> AsyncApp:
        sealer = Sealer(self.core.settings.resolved_secret_key())
        self.installations = store = DatabaseInstallationStore(self.core.db, sealer)
        states = DatabaseStateStore(self.core.db, self.core.services.clock, oauth.state_seconds)
        return oauth_app(oauth, signing_secret, self.client, store, states)

    @property
    def multi_workspace(self) -> bool:
        return self.installations is not None

    def _workspace(self, context: AsyncBoltContext) -> str | None:
        if self.installations is None:
            return None
        return workspace_key(context.enterprise_id, context.team_id, context.is_enterprise_install)

    async def client_for(
        self, workspace: str | None, *, wait_out_rate_limits: bool = True
    ) -> AsyncWebClient:
        """A Web API client holding the bot token of `workspace`."""
        if self.installations is None:
            return self.client if wait_out_rate_limits else self.delivery_client
        found = await self.installations.find(workspace) if workspace is not None else None
        if found is None:
            raise NotInstalled(f"the app is not installed in Slack workspace {workspace}")
        return self._web_client(found.bot_token, wait_out_rate_limits=wait_out_rate_limits)

    # Registration -------------------------------------------------------------

    def _register(self) -> None:
        self.app.command("/teddy")(self.on_slash_command)
        self.app.event("message")(self.on_message)
        self.app.event("app_mention")(self.on_mention)
        self.app.event("app_home_opened")(self.on_home_opened)
        self.app.action(re.compile(f"^{ACTION_PREFIX}\\d+$"))(self.on_button)

    # Inbound ------------------------------------------------------------------

    async def on_slash_command(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()  # Slack wants an answer within 3 s; the work continues after it.
        text = (body.get("text") or "").strip() or "help"
        command_text = text if text.startswith("/") else f"/{text}"
        workspace = self._workspace(context)
        chat = self._conversation(workspace, body["channel_id"], body.get("channel_name", ""))
        incoming = Incoming(
            self._sender(workspace, body["user_id"], body.get("user_name", "")),
            chat,
            text=command_text,
            event_id=f"cmd:{body.get('trigger_id')}" if body.get("trigger_id") else None,
            mentioned=True,
        )
        await self.dispatch(incoming, self.emitter(chat.external_id, body["user_id"], context))

    async def on_message(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        event = body["event"]
        if event.get("subtype") in IGNORED_SUBTYPES or event.get("bot_id") or "user" not in event:
            return
        if event.get("channel_type") != "im":
            return  # channel messages reach Teddy through app_mention
        await self._dispatch_event(body, event, context)

    async def on_mention(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        await self._dispatch_event(body, body["event"], context)

    async def _dispatch_event(
        self, body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        workspace = self._workspace(context)
        chat = self._conversation(workspace, event["channel"], "")
        token = context.bot_token or ""
        incoming = Incoming(
            self._sender(workspace, event["user"]),
            chat,
            text=MENTION.sub("", event.get("text") or "").strip(),
            attachments=tuple(self._attachment(f, token) for f in event.get("files", [])),
            event_id=body.get("event_id"),
            mentioned=True,
        )
        emit = self.emitter(chat.external_id, event["user"], context, event.get("thread_ts"))
        await self.dispatch(incoming, emit)

    async def on_button(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        action = body["actions"][0]
        channel = (body.get("channel") or body.get("container") or {}).get("id") or body[
            "container"
        ]["channel_id"]
        user = body["user"]["id"]
        workspace = self._workspace(context)
        sender = self._sender(workspace, user, body["user"].get("name", ""))
        chat = self._conversation(workspace, channel, "")
        incoming = Incoming(
            sender,
            chat,
            action=action["value"],
            event_id=f"act:{action.get('action_ts')}:{sender.external_id}",
            mentioned=True,
        )
        await self.dispatch(incoming, self.emitter(chat.external_id, user, context))

    async def on_home_opened(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        event = body["event"]
        if event.get("tab") != "home":
            return
        workspace = self._workspace(context)
        await self.publish_home(event["user"], event.get("channel"), workspace, context.client)

    async def publish_home(
        self,
        user: str,
        dm_channel: str | None,
        workspace: str | None = None,
        client: AsyncWebClient | None = None,
    ) -> None:
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": "Study Teddy"}}
        ]
        for command in HOME_COMMANDS:
            name = command.split()[0].lstrip("/")
            if name not in self.core.dispatcher.router.commands:
                continue
            incoming = Incoming(
                self._sender(workspace, user),
                self._conversation(workspace, dm_channel or f"home-{user}", ""),
                command,
            )
            for reply in await self.core.dispatcher.handle(incoming):
                blocks.extend(reply_blocks(reply))
                blocks.append({"type": "divider"})
        client = client or await self.client_for(workspace)
        await client.views_publish(user_id=user, view={"type": "home", "blocks": blocks[:100]})

    def _sender(self, workspace: str | None, user: str, name: str = "") -> Sender:
        return Sender(PLATFORM, chat_key(workspace, user), name)

    def _conversation(self, workspace: str | None, channel: str, name: str) -> Conversation:
        return Conversation(
            PLATFORM, chat_key(workspace, channel), is_direct=channel.startswith("D"), title=name
        )

    def _attachment(self, file: dict[str, Any], token: str) -> Attachment:
        """A shared file, fetched (when the core wants its bytes) with the bot token of the
        workspace it was shared in."""
        url = file.get("url_private_download") or file.get("url_private") or ""

        async def fetch() -> bytes:
            headers = {"Authorization": f"Bearer {token}"}
            async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as response:
                response.raise_for_status()
                return await response.read()

        return Attachment(
            file.get("name") or "file",
            int(file.get("size") or 0),
            file.get("mimetype") or "",
            fetch,
        )

    def socket_mode(self, app_token: str) -> AsyncSocketModeHandler:
        """Socket Mode: Slack pushes events over a WebSocket this process opens (no public URL).
        Start with `await handler.connect_async()`, stop with `await handler.close_async()`."""
        return AsyncSocketModeHandler(self.app, app_token)

    async def dispatch(self, incoming: Incoming, emit: Emit) -> None:
        await self.core.dispatcher.handle(incoming, emit)

    # Outbound -----------------------------------------------------------------

    def emitter(
        self,
        chat: str,
        user: str,
        context: AsyncBoltContext | None = None,
        thread_ts: str | None = None,
    ) -> Emit:
        """Replies to `chat` (a `chat_key`), with the client bolt authorized for the request."""
        client = context.client if context is not None else None

        async def emit(reply: Reply) -> None:
            await self.send(chat, reply, user=user, thread_ts=thread_ts, client=client)

        return emit

    async def send(
        self,
        chat: str,
        reply: Reply,
        *,
        user: str | None = None,
        thread_ts: str | None = None,
        client: AsyncWebClient | None = None,
    ) -> str | None:
        """Reply in `chat` (a `chat_key`): a live reply seen before updates its message,
        a new one is remembered; returns the ts."""
        ephemeral = reply.private and user is not None and not split_key(chat)[1].startswith("D")
        if reply.live_id is None or ephemeral:
            return await self.show(chat, reply, user=user, thread_ts=thread_ts, client=client)
        known = await self.live_ts(chat, reply.live_id)
        ts = await self.show(chat, reply, edit_of=known, client=client)
        if ts is not None and ts != known:
            async with self.core.db.transaction() as session:
                await outbox.remember_live_message(session, PLATFORM, chat, reply.live_id, ts)
        return ts

    async def show(
        self,
        chat: str,
        reply: Reply,
        *,
        edit_of: str | None = None,
        user: str | None = None,
        thread_ts: str | None = None,
        client: AsyncWebClient | None = None,
    ) -> str | None:
        """Show a reply in `chat` (a `chat_key`): the one way a reply reaches Slack, for
        replies and outbox rows alike. A private reply to `user` in a channel is ephemeral;
        `edit_of` (a live reply's message) is updated, anything else posted; files are
        uploaded after. Returns the ts of the message posted or updated."""
        workspace, channel = split_key(chat)
        client = client or await self.client_for(workspace)
        blocks, text = reply_blocks(reply), fallback_text(reply)
        ts: str | None = None
        if reply.private and user is not None and not channel.startswith("D"):
            await client.chat_postEphemeral(channel=channel, user=user, text=text, blocks=blocks)
        elif edit_of is not None:
            await client.chat_update(channel=channel, ts=edit_of, text=text, blocks=blocks)
            ts = edit_of
        elif blocks:
            response = await client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts
            )
            ts = str(response.get("ts") or "") or None
        for part in reply.files:
            await client.files_upload_v2(
                channel=channel, content=part.data, filename=part.name, title=part.name
            )
        if reply.live_id is not None and ts is not None:
            self.memory.showed((chat, reply.live_id), ts, repr((text, blocks)))
        return ts

    async def live_ts(self, chat: str, live_id: str) -> str | None:
        async with self.core.db.transaction() as session:
            return await outbox.live_message_id(session, PLATFORM, chat, live_id)

    async def show_room_event(self, event: RoomEvent) -> None:
        """A room event: update its live message at once, unless it shows that already or
        was never posted (then the reply or the outbox posts it)."""
        reply = event.reply()
        look = repr((fallback_text(reply), reply_blocks(reply)))
        if self.memory.showing((event.chat_id, event.live_id), look):
            return
        ts = await self.live_ts(event.chat_id, event.live_id)
        if ts is not None:
            await self.show(event.chat_id, reply, edit_of=ts)

    async def deliver(self, row: OutboxMessage, edit_of: str | None) -> str | None:
        """Send one outbox row (the `bots.delivery` callback) with the bot token of the
        workspace its chat belongs to; returns the message ts."""
        try:
            client = await self.client_for(split_key(row.chat_id)[0], wait_out_rate_limits=False)
        except NotInstalled as err:
            raise Unreachable(str(err)) from err
        try:
            return await self.show(
                row.chat_id, outbox.as_reply(row), edit_of=edit_of, client=client
            )
        except SlackApiError as err:
            if err.response is not None and err.response.status_code == 429:
                raise RetryLater(float(err.response.headers.get("Retry-After", "1"))) from err
            if is_unreachable(err):
                raise Unreachable(str(err.response.get("error"))) from err
            raise

    def deliverer(self) -> Deliverer:
        return Deliverer(
            self.core.db,
            self.core.services.clock,
            PLATFORM,
            self.deliver,
            SLACK_PACE,
            tenant_of=workspace_of,
        )


def is_unreachable(error: SlackApiError) -> bool:
    """Errors that mean this chat will never accept our messages."""
    code = error.response.get("error") if error.response is not None else None
    return code in {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "user_disabled",
        "account_inactive",
        # The workspace removed the app (its token is revoked before the event reaches us).
        "token_revoked",
    }
