"""The real slack-bolt AsyncApp behind our FastAPI endpoint, its Web API client pointed at
a local stand-in; requests signed exactly as Slack signs them."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from bots.slack.adapter import SlackAdapter
from bots.slack.events import slack_events_router
from core.chat import Button, Ctx, Reply, Router
from core.chat.messages import Card
from core.identity.models import Room
from core.outbox import service as outbox
from teddy.runtime import Runtime
from tests.support.chat_driver import ChatDriver
from tests.support.slack_standin import SlackStandIn

SECRET = "test-signing-secret"


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    server = SlackStandIn()
    await server.start()
    yield server
    await server.stop()
    server.check_refusals()  # nothing we sent would Slack have refused


@pytest.fixture
async def slack(core: Runtime, standin: SlackStandIn) -> SlackAdapter:
    return SlackAdapter(core, bot_token="xoxb-test", signing_secret=SECRET, api_url=standin.api_url)


@pytest.fixture
async def http(slack: SlackAdapter) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(slack_events_router(slack))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def signed_headers(
    body: str, *, timestamp: int | None = None, secret: str = SECRET
) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


async def post_form(http: httpx.AsyncClient, fields: dict[str, str], **kw: Any) -> httpx.Response:
    body = urlencode(fields)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body, **kw)}
    return await http.post("/slack/events", content=body, headers=headers)


async def post_event(
    http: httpx.AsyncClient,
    event: dict[str, Any],
    event_id: str,
    extra_headers: dict[str, str] | None = None,
    team: str = "T1",
) -> httpx.Response:
    body = json.dumps(
        {
            "token": "x",
            "team_id": team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
    )
    headers = {"Content-Type": "application/json", **signed_headers(body), **(extra_headers or {})}
    return await http.post("/slack/events", content=body, headers=headers)


def slash(
    text: str, *, channel: str = "D100", user: str = "U1", trigger: str = "t1", team: str = "T1"
) -> dict[str, str]:
    return {
        "token": "x",
        "team_id": team,
        "channel_id": channel,
        "channel_name": "directmessage",
        "user_id": user,
        "user_name": "ana",
        "command": "/teddy",
        "text": text,
        "trigger_id": trigger,
        "response_url": "http://127.0.0.1:9/unused",
        "api_app_id": "A1",
    }


def click(
    value: str, *, channel: str = "D100", user: str = "U1", ts: str = "1.1"
) -> dict[str, str]:
    payload = {
        "type": "block_actions",
        "api_app_id": "A1",
        "team": {"id": "T1"},
        "user": {"id": user, "name": "ana", "team_id": "T1"},
        "channel": {"id": channel},
        "container": {"type": "message", "channel_id": channel, "message_ts": "1.0"},
        "trigger_id": f"trig-{ts}",
        "token": "x",
        "actions": [
            {
                "type": "button",
                "action_id": "teddy-0",
                "block_id": "b",
                "value": value,
                "action_ts": ts,
            }
        ],
    }
    return {"payload": json.dumps(payload)}


def file_share(standin: SlackStandIn, name: str, size: int) -> dict[str, Any]:
    """A Markdown file shared with the app in the DM D100 by U1, served by the stand-in."""
    return {
        "type": "message",
        "subtype": "file_share",
        "channel_type": "im",
        "user": "U1",
        "channel": "D100",
        "text": "",
        "ts": "7.7",
        "files": [
            {
                "id": "F1",
                "name": name,
                "mimetype": "text/markdown",
                "size": size,
                "url_private_download": f"{standin.url}/files/{name}",
            }
        ],
    }


def counter_capability(router: Router) -> None:
    extra = Router()

    @extra.command("count", usage="/count", summary="a live counter", area="everyone")
    async def count(ctx: Ctx, args: str) -> Reply:
        return Reply.text("Count **0**", [Button("+1", "count.inc:0")], live_id="counter")

    @extra.action("count.inc")
    async def inc(ctx: Ctx, payload: str) -> Reply:
        n = int(payload) + 1
        return Reply.text(f"Count **{n}**", [Button("+1", f"count.inc:{n}")], live_id="counter")

    @extra.command("secret", usage="/secret", summary="a private reply", area="everyone")
    async def secret(ctx: Ctx, args: str) -> Reply:
        return Reply.text("only you see this", private=True)

    router.include(extra)


async def test_slash_command_is_acknowledged_and_answered_in_the_channel(
    http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    response = await post_form(http, slash("settings tz Europe/Berlin"))
    assert response.status_code == 200
    posted = await standin.wait_for("chat.postMessage")
    assert posted[0].params["channel"] == "D100"
    assert "Europe/Berlin" in posted[0].params["text"]
    blocks = posted[0].params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert blocks[0]["type"] == "section" and blocks[0]["text"]["type"] == "mrkdwn"


async def live_message_recorded(core: Runtime, channel: str, live_id: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        async with core.db.transaction() as session:
            if await outbox.live_message_id(session, "slack", channel, live_id) is not None:
                return
        await asyncio.sleep(0.01)
    raise AssertionError(f"live message {live_id} never recorded")


async def test_button_click_edits_the_live_message_in_place(
    core: Runtime, http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    counter_capability(core.dispatcher.router)
    await post_form(http, slash("count"))
    first = (await standin.wait_for("chat.postMessage"))[0]
    blocks = first.params["blocks"]
    button = next(b for b in blocks if b["type"] == "actions")["elements"][0]
    assert button["value"] == "count.inc:0" and button["action_id"] == "teddy-0"
    # The stand-in logs the post when it arrives; the adapter records the message's ts once
    # Slack has answered. A person clicks only after seeing the message, so wait for that.
    await live_message_recorded(core, first.params["channel"], "counter")
    await post_form(http, click(button["value"]))
    update = (await standin.wait_for("chat.update"))[0]
    assert update.params["ts"] == "1700000001.000100"
    assert "Count *1*" in json.dumps(update.params["blocks"])
    assert len(standin.named("chat.postMessage")) == 1


async def test_private_reply_in_a_channel_is_ephemeral(
    core: Runtime, http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    counter_capability(core.dispatcher.router)
    await post_form(http, slash("secret", channel="C200"))
    ephemeral = (await standin.wait_for("chat.postEphemeral"))[0]
    assert ephemeral.params["user"] == "U1" and ephemeral.params["channel"] == "C200"
    assert standin.named("chat.postMessage") == []


async def test_mention_in_a_channel_makes_it_a_room(
    core: Runtime, http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    event = {
        "type": "app_mention",
        "user": "U7",
        "channel": "C300",
        "text": "<@UBOT> /help",
        "ts": "5.5",
    }
    assert (await post_event(http, event, "Ev-mention")).status_code == 200
    reply = (await standin.wait_for("chat.postMessage"))[0]
    assert reply.params["channel"] == "C300" and "/settings" in reply.params["text"]
    async with core.db.transaction() as session:
        rooms = list(await session.scalars(select(Room)))
    assert [(r.platform, r.external_id) for r in rooms] == [("slack", "C300")]


async def test_channel_messages_without_mention_are_ignored(
    http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    event = {
        "type": "message",
        "channel_type": "channel",
        "user": "U7",
        "channel": "C300",
        "text": "/help",
        "ts": "6.6",
    }
    await post_event(http, event, "Ev-plain")
    await post_event(http, {**event, "channel_type": "im", "channel": "D9"}, "Ev-dm")
    posted = await standin.wait_for("chat.postMessage")
    assert [c.params["channel"] for c in posted] == ["D9"]


async def test_a_file_shared_in_a_dm_reaches_the_core_with_its_bytes(
    core: Runtime, http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    received: list[tuple[str, str, bytes]] = []

    async def on_file(ctx: Ctx, text: str) -> Reply:
        for attachment in ctx.incoming.attachments:
            received.append((attachment.name, attachment.mime, await attachment.fetch()))
        return Reply.text("got it")

    core.dispatcher.router.file_handler = on_file
    standin.files["notes.md"] = "# Notes\nMitochondria ✓".encode()
    event = file_share(standin, "notes.md", 24)
    await post_event(http, event, "Ev-file")
    await standin.wait_for("chat.postMessage")
    assert received == [("notes.md", "text/markdown", "# Notes\nMitochondria ✓".encode())]


async def test_files_in_replies_are_uploaded(
    core: Runtime, slack: SlackAdapter, standin: SlackStandIn
) -> None:
    from core.chat.messages import FilePart

    await slack.send(
        "D100", Reply.text("here").with_parts(FilePart("deck.csv", b"a,b\n", "text/csv"))
    )
    await standin.wait_for("files.completeUploadExternal")
    assert list(standin.uploads.values()) == [b"a,b\n"]


async def test_app_home_shows_todays_tasks_then_the_decks_under_the_header(
    core: Runtime, slack: SlackAdapter, standin: SlackStandIn
) -> None:
    ana = ChatDriver(core, "U1", platform="slack")
    await ana.say("/task Lab report today 5pm")
    await ana.say("/task Essay next month")
    await ana.say("/deck Biology")
    await slack.publish_home("U1", "D100")
    view = (await standin.wait_for("views.publish"))[0].params["view"]
    assert view["type"] == "home"
    blocks = view["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Study Teddy"}}
    # One part per home command (/tasks today, /decks), each closed by a divider.
    dividers = [i for i, block in enumerate(blocks) if block["type"] == "divider"]
    assert len(dividers) == 2 and dividers[-1] == len(blocks) - 1
    tasks_part = json.dumps(blocks[1 : dividers[0]])
    decks_part = json.dumps(blocks[dividers[0] + 1 : dividers[1]])
    assert "Lab report" in tasks_part and "Essay" not in tasks_part  # today's only
    assert "Biology" in decks_part and "Lab report" not in decks_part
    complete = [
        element["value"]
        for block in blocks[1 : dividers[0]]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert len(complete) == 1  # the one task of today gets its button


async def test_a_long_reply_with_a_big_card_reaches_slack_within_its_limits(
    slack: SlackAdapter, standin: SlackStandIn
) -> None:
    paragraphs = [f"Paragraph {i}: " + "words " * 150 for i in range(30)]  # ~27,000 chars
    card = Card("Results " * 40, tuple((f"Field {i}", "value " * 500) for i in range(24)))
    buttons = [Button(f"Option {i} " * 20, f"pick:{i}") for i in range(40)]
    await slack.send("D100", Reply.text("\n\n".join(paragraphs), buttons).with_parts(card))
    posted = (await standin.wait_for("chat.postMessage"))[0]
    blocks = posted.params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert len(blocks) <= 50
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert len(sections) >= 9 and all(len(text) <= 3000 for text in sections)
    assert "".join(sections).count("Paragraph") == 30  # split, none lost
    # The stand-in refused nothing (checked by the fixture at the end).


async def test_requests_with_bad_stale_or_missing_signatures_are_rejected(
    http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    body = urlencode(slash("help"))
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    bad = await post_form(http, slash("help"), secret="wrong-secret")
    stale = await post_form(http, slash("help"), timestamp=int(time.time()) - 6 * 60)
    missing = await http.post("/slack/events", content=body, headers=form)
    assert (bad.status_code, stale.status_code, missing.status_code) == (401, 401, 401)
    assert standin.named("chat.postMessage") == []


async def test_a_retried_event_is_processed_once(
    http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    event = {
        "type": "message",
        "channel_type": "im",
        "user": "U1",
        "channel": "D100",
        "text": "/settings",
        "ts": "8.8",
    }
    await post_event(http, event, "Ev-retry")
    await standin.wait_for("chat.postMessage")
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await post_event(http, event, "Ev-retry", retry)).status_code == 200
    await post_event(http, {**event, "text": "/start"}, "Ev-next")
    posted = await standin.wait_for("chat.postMessage", 2)
    assert len(posted) == 2 and "Study Teddy" in posted[1].params["text"]


async def test_socket_mode_receives_a_slash_command_and_acks_the_envelope(
    slack: SlackAdapter, standin: SlackStandIn
) -> None:
    handler = slack.socket_mode("xapp-test")
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await standin.push(
            "slash_commands", slash("settings tz Asia/Tokyo", trigger="sm1"), "env-1"
        )
        posted = await standin.wait_for("chat.postMessage")
        assert "Asia/Tokyo" in posted[0].params["text"]
        assert {"envelope_id": "env-1"}.items() <= standin.acks[0].items()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


async def test_outbox_delivery_paces_per_channel_and_honours_retry_after(
    core: Runtime, slack: SlackAdapter, standin: SlackStandIn
) -> None:
    from sqlalchemy import func

    from core.identity.models import Room as RoomModel
    from core.outbox import service as outbox_service
    from core.outbox.models import OutboxMessage

    now = core.services.clock.now()
    async with core.db.transaction() as session:
        rooms = [RoomModel(platform="slack", external_id=f"C{i}", title="") for i in range(3)]
        session.add_all(rooms)
        await session.flush()
        for i in range(12):
            await outbox_service.notify_room(
                session, rooms[i % 3], kind="t", text=f"note {i}", dedupe_key=f"n{i}", at=now
            )
    standin.rate_limit_next["chat.postMessage"] = 1
    stop = asyncio.Event()
    deliverer = slack.deliverer()
    task = asyncio.create_task(deliverer.run(stop))
    try:
        posted = await standin.wait_for("chat.postMessage", 13, timeout=30)
    finally:
        stop.set()
        await task
    assert [c.status for c in posted].count(429) == 1
    delivered = [c for c in posted if c.status == 200 and c.params["text"].startswith("note")]
    texts = [c.params["text"] for c in delivered]
    assert sorted(texts) == sorted(f"note {i}" for i in range(12))  # each once, 429 retried
    for channel in ("C0", "C1", "C2"):
        times = [c.at for c in delivered if c.params["channel"] == channel]
        assert all(b - a >= 0.99 for a, b in itertools.pairwise(times))
    async with core.db.transaction() as session:
        pending = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None))
        )
    assert pending == 0
