"""Slack events, slash commands and button clicks in; Block Kit messages out.

One slash command `/teddy <command> ...` reaches every core command; mentions in channels
and direct messages reach the tutor and the commands; buttons carry core action ids as
their value. Nothing here decides anything: that is the core's work."""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bots.delivery import Deliverer, Pace, RetryLater, Unreachable
from bots.slack.render import ACTION_PREFIX, fallback_text, reply_blocks
from core.chat.context import Emit
from core.chat.messages import Attachment, Conversation, Incoming, Reply, Sender
from core.notify import service as outbox
from core.notify.models import OutboxMessage
from teddy.runtime import Core

log = logging.getLogger(__name__)

PLATFORM = "slack"
MENTION = re.compile(r"<@[A-Z0-9]+>\s*")
# What the App Home tab shows: the output of these commands, for the user opening it.
HOME_COMMANDS = ("/tasks today", "/decks")
# chat.postMessage: about one message per second per channel; a workspace-wide budget on top.
SLACK_PACE = Pace(per_second=20, chat_interval=1.0, group_per_minute=60)
IGNORED_SUBTYPES = {"bot_message", "message_changed", "message_deleted", "channel_join"}


class SlackAdapter:
    def __init__(self, core: Core, *, bot_token: str, signing_secret: str, api_url: str) -> None:
        self.core = core
        self.bot_token = bot_token
        self.client = AsyncWebClient(
            token=bot_token,
            base_url=api_url,
            retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=3)],
        )
        self.app = AsyncApp(client=self.client, signing_secret=signing_secret)
        self._register()

    # Registration -------------------------------------------------------------

    def _register(self) -> None:
        self.app.command("/teddy")(self.on_slash_command)
        self.app.event("message")(self.on_message)
        self.app.event("app_mention")(self.on_mention)
        self.app.event("app_home_opened")(self.on_home_opened)
        self.app.action(re.compile(f"^{ACTION_PREFIX}\\d+$"))(self.on_button)

    # Inbound ------------------------------------------------------------------

    async def on_slash_command(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()  # Slack wants an answer within 3 s; the work continues after it.
        text = (body.get("text") or "").strip() or "help"
        command_text = text if text.startswith("/") else f"/{text}"
        channel = body["channel_id"]
        incoming = Incoming(
            Sender(PLATFORM, body["user_id"], body.get("user_name", "")),
            self._conversation(channel, body.get("channel_name", "")),
            text=command_text,
            event_id=f"cmd:{body.get('trigger_id')}" if body.get("trigger_id") else None,
            mentioned=True,
        )
        await self.dispatch(incoming, self.emitter(channel, body["user_id"]))

    async def on_message(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        event = body["event"]
        if event.get("subtype") in IGNORED_SUBTYPES or event.get("bot_id") or "user" not in event:
            return
        if event.get("channel_type") != "im":
            return  # channel messages reach Teddy through app_mention
        await self._dispatch_event(body, event, mentioned=True)

    async def on_mention(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        await self._dispatch_event(body, body["event"], mentioned=True)

    async def _dispatch_event(
        self, body: dict[str, Any], event: dict[str, Any], mentioned: bool
    ) -> None:
        channel = event["channel"]
        incoming = Incoming(
            Sender(PLATFORM, event["user"]),
            self._conversation(channel, ""),
            text=MENTION.sub("", event.get("text") or "").strip(),
            attachments=tuple(self._attachment(f) for f in event.get("files", [])),
            event_id=body.get("event_id"),
            mentioned=mentioned,
        )
        await self.dispatch(incoming, self.emitter(channel, event["user"], event.get("thread_ts")))

    async def on_button(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        action = body["actions"][0]
        channel = (body.get("channel") or body.get("container") or {}).get("id") or body[
            "container"
        ]["channel_id"]
        user = body["user"]["id"]
        incoming = Incoming(
            Sender(PLATFORM, user, body["user"].get("name", "")),
            self._conversation(channel, ""),
            action=action["value"],
            event_id=f"act:{action.get('action_ts')}:{user}",
            mentioned=True,
        )
        await self.dispatch(incoming, self.emitter(channel, user))

    async def on_home_opened(self, ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        event = body["event"]
        if event.get("tab") != "home":
            return
        await self.publish_home(event["user"], event.get("channel"))

    async def publish_home(self, user: str, dm_channel: str | None) -> None:
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": "Study Teddy"}}
        ]
        for command in HOME_COMMANDS:
            name = command.split()[0].lstrip("/")
            if name not in self.core.dispatcher.router.commands:
                continue
            incoming = Incoming(
                Sender(PLATFORM, user),
                self._conversation(dm_channel or f"home-{user}", ""),
                command,
            )
            for reply in await self.core.dispatcher.handle(incoming):
                blocks.extend(reply_blocks(reply))
                blocks.append({"type": "divider"})
        await self.client.views_publish(user_id=user, view={"type": "home", "blocks": blocks[:100]})

    def _conversation(self, channel: str, name: str) -> Conversation:
        return Conversation(PLATFORM, channel, is_direct=channel.startswith("D"), title=name)

    def _attachment(self, file: dict[str, Any]) -> Attachment:
        url = file.get("url_private_download") or file.get("url_private") or ""
        token = self.bot_token

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

    def emitter(self, channel: str, user: str, thread_ts: str | None = None) -> Emit:
        async def emit(reply: Reply) -> None:
            await self.send(channel, reply, user=user, thread_ts=thread_ts)

        return emit

    async def send(
        self, channel: str, reply: Reply, *, user: str | None = None, thread_ts: str | None = None
    ) -> str | None:
        """Post (or, for a live message seen before, update) a reply; returns its ts."""
        blocks = reply_blocks(reply)
        text = fallback_text(reply)
        ts: str | None = None
        if reply.private and user is not None and not channel.startswith("D"):
            await self.client.chat_postEphemeral(
                channel=channel, user=user, text=text, blocks=blocks
            )
        elif reply.live_id is not None:
            ts = await self._send_live(channel, reply.live_id, text, blocks)
        elif blocks:
            response = await self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts
            )
            ts = response.get("ts")
        for part in reply.files:
            await self.client.files_upload_v2(
                channel=channel, content=part.data, filename=part.name, title=part.name
            )
        return ts

    async def _send_live(
        self, channel: str, live_id: str, text: str, blocks: list[Any]
    ) -> str | None:
        async with self.core.db.transaction() as session:
            ts = await outbox.live_message_id(session, PLATFORM, channel, live_id)
        if ts is not None:
            await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            return ts
        response = await self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        new_ts = response.get("ts")
        if new_ts:
            async with self.core.db.transaction() as session:
                await outbox.remember_live_message(session, PLATFORM, channel, live_id, new_ts)
        return new_ts

    async def deliver(self, row: OutboxMessage, edit_of: str | None) -> str | None:
        """Send one outbox row (the `bots.delivery` callback); returns the message ts."""
        reply = outbox.as_reply(row)
        blocks, text = reply_blocks(reply), fallback_text(reply)
        try:
            if edit_of is not None:
                await self.client.chat_update(
                    channel=row.chat_id, ts=edit_of, text=text, blocks=blocks
                )
                return edit_of
            response = await self.client.chat_postMessage(
                channel=row.chat_id, text=text, blocks=blocks
            )
            return str(response.get("ts") or "") or None
        except SlackApiError as err:
            if err.response is not None and err.response.status_code == 429:
                raise RetryLater(float(err.response.headers.get("Retry-After", "1"))) from err
            if is_unreachable(err):
                raise Unreachable(str(err.response.get("error"))) from err
            raise

    def deliverer(self) -> Deliverer:
        return Deliverer(self.core.db, self.core.services.clock, PLATFORM, self.deliver, SLACK_PACE)


def is_unreachable(error: SlackApiError) -> bool:
    """Errors that mean this chat will never accept our messages."""
    code = error.response.get("error") if error.response is not None else None
    return code in {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "user_disabled",
        "account_inactive",
    }
