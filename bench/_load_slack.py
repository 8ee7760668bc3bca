"""Students through the Slack adapter: signed HTTP requests (slash commands, DM events with
files, button clicks) into our FastAPI `/slack/events` endpoint served by uvicorn on
loopback, the real slack-bolt AsyncApp behind it, and its Web API client calling the local
Slack stand-in over HTTP.

A step's latency runs from sending the request until the adapter has finished handling it
(every reply posted to the stand-in): the adapter's `dispatch` is wrapped to say when, and
its emitter to see the replies (their buttons, an internal error). Every Web API call the
stand-in receives is checked against Slack's limits (50 blocks, 3,000 characters per
section); a call Slack would refuse counts as an error."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import time
import urllib.parse
from collections import defaultdict
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from slack_sdk.signature import SignatureVerifier

from bench._load import NOTE, Step
from bots.slack.adapter import SlackAdapter
from bots.slack.events import slack_events_router
from bots.slack.render import BLOCK_LIMIT, SECTION_LIMIT
from core.chat.context import Emit
from core.chat.messages import Incoming, Reply
from teddy.runtime import Runtime
from tests.e2e.test_slack import click, slash
from tests.support.slack_standin import SlackStandIn

SECRET = "bench-signing-secret"
FORM = "application/x-www-form-urlencoded"
_TRIGGERS = itertools.count(1)


def slack_refusal(method: str, params: dict[str, Any]) -> str | None:
    """Why Slack would refuse this Web API call (None: it would accept it)."""
    if method not in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
        return None
    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if len(blocks) > BLOCK_LIMIT:
        return f"{method}: {len(blocks)} blocks"
    for block in blocks:
        text = (block.get("text") or {}).get("text", "")
        if block.get("type") == "section" and not (0 < len(text) <= SECTION_LIMIT):
            return f"{method}: section text of {len(text)} characters"
    if not blocks and not params.get("text"):
        return f"{method}: no text"
    return None


class CheckingSlackStandIn(SlackStandIn):
    """The stand-in, answering as before, that also checks each call and keeps only the
    latest calls (the load makes hundreds of thousands)."""

    refused: list[str]

    def _answer(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        problem = slack_refusal(method, params)
        if problem is not None:
            self.refused.append(problem)
        if len(self.calls) > 2000:
            del self.calls[:1000]
        return super()._answer(method, params, token)


class SlackPath:
    """uvicorn + FastAPI + bolt on a free loopback port; students post signed requests."""

    def __init__(self, core: Runtime) -> None:
        self.core = core
        self.standin = CheckingSlackStandIn()
        self.standin.refused = []
        self.verifier = SignatureVerifier(SECRET)
        self.done: dict[str, asyncio.Future[None]] = {}
        self.replies: dict[str, list[Reply]] = defaultdict(list)

    async def start(self) -> None:
        await self.standin.start()
        self.adapter = SlackAdapter(
            self.core,
            bot_token="xoxb-test",
            signing_secret=SECRET,
            api_url=self.standin.api_url,
        )
        self._instrument()
        app = FastAPI()
        app.include_router(slack_events_router(self.adapter))
        # A socket already listening: requests wait in its backlog until uvicorn serves.
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(512)
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", backlog=512)
        self.server = uvicorn.Server(config)
        self.serving = asyncio.create_task(self.server.serve(sockets=[sock]))
        # Idle connections are dropped before uvicorn's keep-alive timeout closes them,
        # as a proxy in front would (a request on a closing connection fails to read).
        limits = httpx.Limits(
            max_connections=100, max_keepalive_connections=100, keepalive_expiry=2.0
        )
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits)

    def _instrument(self) -> None:
        """Know when the adapter finished an event and what it replied (the real
        `dispatch` and emitter still run)."""
        dispatch = self.adapter.dispatch

        async def traced(incoming: Incoming, emit: Emit) -> None:
            key = incoming.event_id or ""

            async def seen(reply: Reply) -> None:
                self.replies[key].append(reply)
                await emit(reply)

            try:
                await dispatch(incoming, seen)
            finally:
                future = self.done.get(key)
                if future is not None and not future.done():
                    future.set_result(None)

        self.adapter.dispatch = traced  # type: ignore[method-assign]

    async def stop(self) -> None:
        await self.http.aclose()
        self.server.should_exit = True
        await self.serving
        await self.standin.stop()

    @property
    def refused(self) -> list[str]:
        return self.standin.refused

    def channel(self, user_id: str, step: Step) -> str:
        return f"C{step.room.upper()}" if step.room is not None else f"D{user_id}"

    async def send(self, user_id: str, step: Step, event_id: str) -> list[Reply]:
        replies, _ = await self.timed(user_id, step, event_id)
        return replies

    async def timed(self, user_id: str, step: Step, event_id: str) -> tuple[list[Reply], float]:
        """Send one request; returns the replies and the seconds until the HTTP answer (the
        acknowledgement Slack wants within 3 s)."""
        channel = self.channel(user_id, step)
        if step.upload:
            key, body, content_type = self._dm_event(user_id, channel, event_id, "", True)
        elif not step.text.startswith("/") and step.action is None:
            key, body, content_type = self._dm_event(user_id, channel, event_id, step.text)
        elif step.action is not None:
            key, body, content_type = self._click(user_id, channel, step.action)
        else:
            key, body, content_type = self._slash(user_id, channel, step.text)
        future = self.done[key] = asyncio.get_running_loop().create_future()
        try:
            start = time.perf_counter()
            response = await self.http.post(
                "/slack/events", content=body, headers=self._headers(body, content_type)
            )
            acked = time.perf_counter() - start
            if response.status_code != 200:
                raise RuntimeError(f"/slack/events answered {response.status_code}")
            await asyncio.wait_for(future, 120)
        finally:
            self.done.pop(key, None)
        return self.replies.pop(key, []), acked

    def _headers(self, body: str, content_type: str) -> dict[str, str]:
        ts = str(int(time.time()))
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=ts, body=body) or "",
        }

    def _slash(self, user_id: str, channel: str, text: str) -> tuple[str, str, str]:
        trigger = f"trig{next(_TRIGGERS)}"
        fields = slash(text.removeprefix("/"), channel=channel, user=user_id, trigger=trigger)
        if not channel.startswith("D"):
            fields["channel_name"] = channel.lower()
        return f"cmd:{trigger}", urllib.parse.urlencode(fields), FORM

    def _click(self, user_id: str, channel: str, action: str) -> tuple[str, str, str]:
        action_ts = f"{next(_TRIGGERS)}.0"
        fields = click(action, channel=channel, user=user_id, ts=action_ts)
        return f"act:{action_ts}:{user_id}", urllib.parse.urlencode(fields), FORM

    def _dm_event(
        self, user_id: str, channel: str, event_id: str, text: str, upload: bool = False
    ) -> tuple[str, str, str]:
        """A direct message: text (for the tutor) or a shared file."""
        event: dict[str, Any] = {
            "type": "message",
            "channel_type": "im",
            "user": user_id,
            "channel": channel,
            "text": text,
            "ts": f"{next(_TRIGGERS)}.5",
        }
        if upload:
            self.standin.files["photosynthesis.md"] = NOTE
            event["subtype"] = "file_share"
            event["files"] = [
                {
                    "id": f"F{user_id}",
                    "name": "photosynthesis.md",
                    "size": len(NOTE),
                    "mimetype": "text/markdown",
                    "url_private_download": f"{self.standin.url}/files/photosynthesis.md",
                }
            ]
        key = f"Ev{event_id}"
        body = json.dumps(
            {
                "token": "x",
                "team_id": "T1",
                "api_app_id": "A1",
                "type": "event_callback",
                "event_id": key,
                "event_time": int(time.time()),
                "event": event,
            }
        )
        return key, body, "application/json"
