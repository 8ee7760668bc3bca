"""The real discord.py client against a local stand-in of Discord's REST API and gateway."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import discord
import pytest
import yarl
from sqlalchemy import select

from bots.discord.adapter import TeddyDiscord
from core.chat import Button, Ctx, Reply, Router
from core.chat.messages import Card
from core.clock import FixedClock
from core.identity.models import Room, User
from core.rooms.models import StudySession
from teddy.runtime import Runtime
from tests.support.discord_standin import (
    APP_ID,
    BOT_ID,
    GUILD_ID,
    TEXT_CHANNEL,
    VOICE_CHANNEL,
    DiscordStandIn,
    member,
    message,
    user,
)

ALICE = "940000000000000001"
DM_CHANNEL = "960000000000000001"
_ids = itertools.count(980000000000000000)


@pytest.fixture
async def standin(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordStandIn]:
    server = DiscordStandIn()
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", f"{server.url}/api/v10")
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url)
    )
    yield server
    await server.stop()
    server.check_refusals()  # nothing we sent would Discord have refused


async def start_client(
    core: Runtime, standin: DiscordStandIn
) -> tuple[TeddyDiscord, asyncio.Task[None]]:
    standin.identified.clear()
    client = TeddyDiscord(core)
    task = asyncio.create_task(client.start("bot-token"))
    ready = asyncio.create_task(client.wait_until_ready())
    await asyncio.wait({task, ready}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
        await task  # raises the client's start-up error
    return client, task


async def stop_client(client: TeddyDiscord, task: asyncio.Task[None]) -> None:
    await client.close()
    await asyncio.wait_for(task, 10)


@pytest.fixture
async def bot(core: Runtime, standin: DiscordStandIn) -> AsyncIterator[TeddyDiscord]:
    add_test_commands(core.dispatcher.router)
    client, task = await start_client(core, standin)
    yield client
    await stop_client(client, task)


def slash(
    name: str,
    options: dict[str, str | int] | None = None,
    *,
    dm: bool = False,
    channel: str = TEXT_CHANNEL,
    kind: int = 2,
    focused: str | None = None,
    who: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A slash command interaction (or, with kind 4 and `focused`, an autocomplete one)
    with its options as Discord sends them: integers as type 4, text as type 3."""
    iid = str(next(_ids))
    data: dict[str, Any] = {"id": "970000000000000001", "name": name, "type": 1}
    if options:
        data["options"] = [
            {
                "name": key,
                "type": 4 if isinstance(value, int) else 3,
                "value": value,
                **({"focused": True} if key == focused else {}),
            }
            for key, value in options.items()
        ]
    payload = interaction(iid, kind, data, dm=dm)
    if who is not None:
        payload["member"] = who
    if channel != TEXT_CHANNEL:
        payload["channel_id"] = channel
        payload["channel"] = {**payload["channel"], "id": channel, "type": 2, "name": "Quiet Room"}
    return payload


def interaction(
    iid: str, kind: int, data: dict[str, Any], *, dm: bool = False, **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": iid,
        "application_id": APP_ID,
        "type": kind,
        "token": f"tok{iid}",
        "version": 1,
        "data": data,
        "locale": "en-US",
        "app_permissions": "2147483647",
        "entitlements": [],
        "authorizing_integration_owners": {},
        "attachment_size_limit": 26214400,
        **extra,
    }
    if dm:
        payload.update(
            channel_id=DM_CHANNEL,
            context=1,
            user=user(ALICE, "alice"),
            channel={"id": DM_CHANNEL, "type": 1, "recipients": [user(ALICE, "alice")]},
        )
    else:
        payload.update(
            guild_id=GUILD_ID,
            channel_id=TEXT_CHANNEL,
            context=0,
            guild_locale="en-US",
            member=member(ALICE, "alice"),
            channel={
                "id": TEXT_CHANNEL,
                "type": 0,
                "name": "study",
                "guild_id": GUILD_ID,
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
            },
        )
    return payload


def click(custom_id: str, message_id: str, *, dm: bool = True) -> dict[str, Any]:
    iid = str(next(_ids))
    button = {"type": 2, "style": 2, "label": "+1", "custom_id": custom_id}
    clicked = message(
        message_id,
        DM_CHANNEL if dm else TEXT_CHANNEL,
        user(BOT_ID, "teddy", bot=True),
        {"content": "Count", "components": [{"type": 1, "components": [button]}]},
    )
    return interaction(
        iid, 3, {"custom_id": custom_id, "component_type": 2}, dm=dm, message=clicked
    )


def message_create(
    content: str, *, dm: bool, mention: bool = False, **extra: Any
) -> dict[str, Any]:
    channel = DM_CHANNEL if dm else TEXT_CHANNEL
    data = message(str(next(_ids)), channel, user(ALICE, "alice"), {"content": content})
    data["mentions"] = [user(BOT_ID, "teddy", bot=True)] if mention else []
    data.update(extra)
    if not dm:
        data["guild_id"] = GUILD_ID
        data["member"] = {k: v for k, v in member(ALICE, "alice").items() if k != "user"}
    return data


def add_test_commands(router: Router) -> None:
    extra = Router()

    @extra.command("count", usage="/count", summary="a live counter", area="everyone")
    async def count(ctx: Ctx, args: str) -> Reply:
        return Reply.text("Count **0**", [Button("+1", "count.inc:0")], live_id="counter")

    @extra.action("count.inc")
    async def inc(ctx: Ctx, payload: str) -> Reply:
        n = int(payload) + 1
        return Reply.text(f"Count **{n}**", [Button("+1", f"count.inc:{n}")], live_id="counter")

    @extra.command("essay", usage="/essay", summary="a long answer", area="everyone")
    async def essay(ctx: Ctx, args: str) -> Reply:
        return Reply.text("\n\n".join(f"Paragraph {i}: " + "words " * 60 for i in range(20)))

    @extra.command("slow", usage="/slow", summary="takes a while", area="everyone")
    async def slow(ctx: Ctx, args: str) -> Reply:
        await asyncio.sleep(2.5)
        return Reply.text("done thinking")

    router.include(extra)


def callbacks(standin: DiscordStandIn) -> list[dict[str, Any]]:
    return [c.body for c in standin.named("POST", "/callback")]


async def test_every_core_command_is_synced_as_a_slash_command(
    bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    await bot.tree.sync()
    synced = (await standin.wait_for("PUT", f"/applications/{APP_ID}/commands"))[0].body
    names = {c["name"] for c in synced}
    assert {"start", "help", "settings"} <= names
    by_name = {c["name"]: c for c in synced}
    setting, value = by_name["settings"]["options"]
    assert (setting["name"], setting["type"], setting["required"]) == ("setting", 3, False)
    assert [c["value"] for c in setting["choices"]] == ["tz", "quiet", "digest"]
    assert (value["name"], value["type"], "choices" in value) == ("value", 3, False)
    [number] = by_name["done"]["options"]
    assert number == {
        "type": 4,
        "name": "number",
        "description": "the task's number from /tasks",
        "required": True,
        "autocomplete": True,
        "min_value": 1,
    }
    minutes, pause, subject = by_name["focus"]["options"]
    assert (minutes["name"], minutes["type"], minutes["min_value"], minutes["max_value"]) == (
        "minutes",
        4,
        1,
        180,
    )
    assert (pause["name"], pause["type"], pause["min_value"]) == ("break", 4, 0)
    assert (subject["name"], subject["type"], subject["required"]) == ("subject", 3, False)
    # Discord wants required options first; /doc declares `del` before the number.
    assert [(o["name"], o["required"]) for o in by_name["doc"]["options"]] == [
        ("number", True),
        ("action", False),
    ]
    assert by_name["start"]["options"] == []
    for command in synced:
        assert len(command["options"]) <= 25
        for option in command.get("options", []):
            assert re.fullmatch(r"[a-z0-9_]{1,32}", option["name"])
            assert 1 <= len(option["description"]) <= 100


async def test_slash_command_with_an_option_answers_the_interaction(
    bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    await standin.dispatch(
        "INTERACTION_CREATE", slash("settings", {"setting": "tz", "value": "Asia/Tokyo"}, dm=True)
    )
    await standin.wait_for("POST", "/callback")
    body = callbacks(standin)[0]
    assert body["type"] == 4 and "Asia/Tokyo" in body["data"]["content"]


async def test_button_click_edits_the_message_in_place_and_survives_a_restart(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    await standin.dispatch("INTERACTION_CREATE", slash("count", dm=True))
    await standin.wait_for("POST", "/callback")
    first = callbacks(standin)[0]
    custom_id = first["data"]["components"][0]["components"][0]["custom_id"]
    assert custom_id == "t:count.inc:0"
    message_id = standin.originals[next(iter(standin.originals))]
    await standin.dispatch("INTERACTION_CREATE", click(custom_id, message_id))
    await standin.wait_for("POST", "/callback", 2)
    edit = callbacks(standin)[1]
    assert edit["type"] == 7 and "Count **1**" in edit["data"]["content"]

    await bot.close()  # a restart: a new client process sees an old button
    client, task = await start_client(core, standin)
    try:
        await standin.dispatch("INTERACTION_CREATE", click("t:count.inc:1", message_id))
        await standin.wait_for("POST", "/callback", 3)
        assert callbacks(standin)[2]["type"] == 7
        assert "Count **2**" in callbacks(standin)[2]["data"]["content"]
    finally:
        await stop_client(client, task)


async def test_a_slow_command_is_deferred_then_followed_up(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    await standin.dispatch("INTERACTION_CREATE", slash("slow", dm=True))
    followup = (await standin.wait_for("POST", f"/webhooks/{APP_ID}/"))[0]
    assert callbacks(standin)[0]["type"] == 5
    assert followup.body["content"] == "done thinking"


async def test_a_mention_in_a_channel_makes_it_a_room_and_long_text_is_split(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    await standin.dispatch(
        "MESSAGE_CREATE", message_create(f"<@{BOT_ID}> /essay", dm=False, mention=True)
    )
    sent = await standin.wait_for("POST", f"/channels/{TEXT_CHANNEL}/messages", 4)
    contents = [c.body["content"] for c in sent]
    assert all(len(c) <= 2000 for c in contents)
    assert "".join(contents).count("Paragraph") == 20
    async with core.db.transaction() as session:
        rooms = list(await session.scalars(select(Room)))
    assert [(r.platform, r.external_id, r.title) for r in rooms] == [
        ("discord", TEXT_CHANNEL, "#study")
    ]


async def test_a_long_reply_with_big_cards_and_many_buttons_reaches_discord_within_its_limits(
    bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    paragraphs = [f"Paragraph {i}: " + "words " * 150 for i in range(8)]  # ~7,300 chars
    cards = [
        Card(f"Card {c} " * 40, tuple((f"Field {i} " * 40, "value " * 300) for i in range(30)))
        for c in range(3)
    ]
    rows = [[Button(f"Option {r}.{i} " * 10, f"pick:{r}.{i}") for i in range(7)] for r in range(7)]
    reply = Reply.text("\n\n".join(paragraphs), rows).with_parts(*cards)
    channel = bot.get_partial_messageable(int(TEXT_CHANNEL))
    await bot.show(channel, TEXT_CHANNEL, reply)
    sent = [c.body for c in standin.named("POST", f"/channels/{TEXT_CHANNEL}/messages")]
    assert len(sent) >= 5  # the text in four messages, the cards after it
    assert "".join(body.get("content") or "" for body in sent).count("Paragraph") == 8
    assert sum(len(body.get("embeds") or []) for body in sent) == 3
    assert [bool(body.get("components")) for body in sent][-1] is True
    # The stand-in refused nothing (checked by the fixture at the end).


async def test_channel_messages_without_a_mention_are_ignored(
    bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    await standin.dispatch("MESSAGE_CREATE", message_create("/help", dm=False))
    await standin.dispatch("MESSAGE_CREATE", message_create("/start", dm=True))
    sent = await standin.wait_for("POST", "/messages")
    assert [c.path for c in sent] == [f"/channels/{DM_CHANNEL}/messages"]


async def test_an_attachment_reaches_the_core_with_its_bytes(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    received: list[tuple[str, int, bytes]] = []

    async def on_file(ctx: Ctx, text: str) -> Reply:
        for attachment in ctx.incoming.attachments:
            received.append((attachment.name, attachment.size, await attachment.fetch()))
        return Reply.text("got it")

    core.dispatcher.router.file_handler = on_file
    standin.cdn["notes.md"] = "# Zellen ✓".encode()
    attachment = {
        "id": "1",
        "filename": "notes.md",
        "size": 12,
        "url": f"{standin.url}/cdn/notes.md",
        "proxy_url": f"{standin.url}/cdn/notes.md",
        "content_type": "text/markdown",
    }
    await standin.dispatch("MESSAGE_CREATE", message_create("", dm=True, attachments=[attachment]))
    await standin.wait_for("POST", f"/channels/{DM_CHANNEL}/messages")
    assert received == [("notes.md", 12, "# Zellen ✓".encode())]


def voice_state(channel_id: str | None) -> dict[str, Any]:
    return {
        "guild_id": GUILD_ID,
        "channel_id": channel_id,
        "user_id": ALICE,
        "member": member(ALICE, "alice"),
        "session_id": "vs1",
        "deaf": False,
        "mute": False,
        "self_deaf": False,
        "self_mute": False,
        "self_video": False,
        "suppress": False,
        "request_to_speak_timestamp": None,
    }


async def voice_sessions(core: Runtime) -> list[StudySession]:
    async with core.db.transaction() as session:
        return list(
            await session.scalars(select(StudySession).where(StudySession.source == "voice"))
        )


async def until(predicate: Any, timeout: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_time_in_a_study_voice_channel_counts_as_study_minutes(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn, clock: FixedClock
) -> None:
    await standin.dispatch(
        "INTERACTION_CREATE",
        slash("room", {"setting": "voice", "value": "on"}, channel=VOICE_CHANNEL),
    )
    await standin.wait_for("POST", "/callback")
    assert "study time" in callbacks(standin)[0]["data"]["content"]

    await standin.dispatch("VOICE_STATE_UPDATE", voice_state(VOICE_CHANNEL))
    opened = await until(lambda: voice_sessions(core))
    assert opened[0].ended_at is None
    clock.advance(timedelta(minutes=30))
    await standin.dispatch("VOICE_STATE_UPDATE", voice_state(None))

    async def closed() -> list[StudySession]:
        return [s for s in await voice_sessions(core) if s.ended_at is not None]

    finished = await until(closed)
    assert finished[0].minutes == 30
    async with core.db.transaction() as session:
        owner = await session.get(User, finished[0].user_id)
    assert owner is not None and owner.display_name == "Alice"


async def test_voice_time_in_an_ordinary_channel_is_not_counted(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn, clock: FixedClock
) -> None:
    await standin.dispatch("VOICE_STATE_UPDATE", voice_state(VOICE_CHANNEL))
    await standin.dispatch("INTERACTION_CREATE", slash("start", dm=True))
    await standin.wait_for("POST", "/callback")  # the voice event before it was handled
    clock.advance(timedelta(minutes=10))
    await standin.dispatch("VOICE_STATE_UPDATE", voice_state(None))
    await standin.dispatch("INTERACTION_CREATE", slash("start", dm=True))
    await standin.wait_for("POST", "/callback", 2)
    assert await voice_sessions(core) == []


async def test_outbox_notifications_are_delivered_once_and_blocked_dms_marked_unreachable(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    from core.identity.models import Identity
    from core.outbox import service as outbox_service
    from core.outbox.models import OutboxMessage

    now = core.services.clock.now()
    channels = ["981000000000000001", "981000000000000002", "981000000000000003"]
    standin.forbidden_channels.add(channels[2])
    async with core.db.transaction() as session:
        for i, channel in enumerate(channels):
            person = User(display_name=f"p{i}")
            session.add(person)
            await session.flush()
            session.add(
                Identity(
                    user_id=person.id,
                    platform="discord",
                    external_id=f"u{i}",
                    display_name="",
                    dm_chat_id=channel,
                    last_seen_at=now,
                )
            )
            await session.flush()
            for n in range(3):
                await outbox_service.notify_user(
                    session,
                    person,
                    kind="reminder",
                    text=f"r{i}-{n}",
                    dedupe_key=f"r{i}-{n}",
                    at=now,
                    respect_quiet_hours=False,
                )
    stop = asyncio.Event()
    task = asyncio.create_task(bot.deliverer().run(stop))
    try:
        await standin.wait_for("POST", f"/channels/{channels[1]}/messages", 3, timeout=20)
        await standin.wait_for("POST", f"/channels/{channels[0]}/messages", 3, timeout=20)
    finally:
        stop.set()
        await task
    sent = [
        c.body["content"]
        for c in standin.named("POST", "/messages")
        if c.path.split("/")[2] != channels[2]
    ]
    assert sorted(sent) == [f"r{i}-{n}" for i in range(2) for n in range(3)]
    async with core.db.transaction() as session:
        blocked = await session.scalar(select(Identity).where(Identity.dm_chat_id == channels[2]))
        undelivered = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.delivered_at.is_(None)))
        )
    assert blocked is not None and blocked.unreachable
    assert {m.chat_id for m in undelivered} == {channels[2]}
    assert len(standin.named("POST", f"/channels/{channels[2]}/messages")) == 1  # given up at once
