"""One study room across Discord, Telegram and Slack, each through its real SDK against
its stand-in: a Discord channel links a Telegram group and a Slack channel with one-time
codes; a focus session started in Discord is joined from Telegram and Slack, and its live
message is edited in all three at each phase change; the leaderboard counts everyone once
(Alice linked her Discord and Telegram accounts); a room task done in Slack shows as done
in Telegram; a Telegram group that removed the bot is unlinked with a notice to the
others."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import discord
import httpx
import pytest
import yarl
from sqlalchemy import func, select

from bots.delivery import Deliverer
from bots.discord.adapter import TeddyDiscord
from bots.slack.adapter import SlackAdapter
from core.clock import FixedClock
from core.jobs import JobContext, run_job
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage
from teddy.runtime import Runtime
from tests.e2e import test_slack as slack_base
from tests.e2e.test_discord import callbacks, slash, start_client, stop_client
from tests.e2e.test_slack import click as slack_click
from tests.e2e.test_slack import post_form
from tests.e2e.test_slack import slash as slack_slash
from tests.support.discord_standin import TEXT_CHANNEL, DiscordStandIn
from tests.support.slack_standin import Call, SlackStandIn
from tests.support.telegram_harness import TelegramBot, running_bot
from tests.support.telegram_standin import callback_update, message_update, user

standin, slack, http = slack_base.standin, slack_base.slack, slack_base.http  # Slack's fixtures
CODE = re.compile(r"/room join ([A-Z0-9]{5}-[A-Z0-9]{5})")
GROUP = -100777
ALICE_TG, BEN = user(111, "Alice"), user(222, "Ben")
SLACK_CHANNEL = "C500"


@pytest.fixture
async def discord_standin(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordStandIn]:
    server = DiscordStandIn()
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", f"{server.url}/api/v10")
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url)
    )
    yield server
    await server.stop()
    server.check_refusals()


@pytest.fixture
async def discord_bot(
    core: Runtime, discord_standin: DiscordStandIn
) -> AsyncIterator[TeddyDiscord]:
    client, task = await start_client(core, discord_standin)
    yield client
    await stop_client(client, task)


@pytest.fixture
async def telegram(core: Runtime) -> AsyncIterator[TelegramBot]:
    async with running_bot(core) as running:
        yield running


async def discord_command(
    standin: DiscordStandIn, name: str, options: dict[str, str | int], *, dm: bool = False
) -> dict[str, Any]:
    seen = len(callbacks(standin))
    await standin.dispatch("INTERACTION_CREATE", slash(name, options, dm=dm))
    await standin.wait_for("POST", "/callback", seen + 1)
    return callbacks(standin)[seen]


async def slack_command(
    http: httpx.AsyncClient, standin: SlackStandIn, text: str, user_id: str = "U3"
) -> Call:
    """A slash command in the Slack channel; returns its answer."""
    seen = len(standin.named("chat.postMessage"))
    fields = slack_slash(text, channel=SLACK_CHANNEL, user=user_id, trigger=f"t{seen}")
    fields["channel_name"] = "class-42"
    await post_form(http, fields)
    return (await standin.wait_for("chat.postMessage", seen + 1))[seen]


async def telegram_says(bot: TelegramBot, who: dict[str, Any], text: str) -> str:
    seen = len(bot.standin.sent("sendMessage"))
    chat = GROUP if not text.startswith("/link") else who["id"]
    await bot.process(message_update(who, text, chat_id=chat, title="Bio group"))
    return str(bot.standin.sent("sendMessage")[seen].params["text"])


async def drain(core: Runtime, deliverer: Deliverer, timeout: float = 30.0) -> None:
    """Run a platform's deliverer (at its pace) until its outbox rows are all handled."""
    stop = asyncio.Event()
    task = asyncio.create_task(deliverer.run(stop))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while await pending(core, deliverer.platform):
            assert loop.time() < deadline, f"{deliverer.platform} outbox not delivered"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task


async def pending(core: Runtime, platform: str) -> int:
    async with core.db.transaction() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.platform == platform,
                    OutboxMessage.delivered_at.is_(None),
                    OutboxMessage.attempts < outbox.MAX_ATTEMPTS,
                )
            )
            or 0
        )


def code_in(text: str) -> str:
    found = CODE.search(text)
    assert found is not None, text
    return found.group(1)


def slack_buttons(call: Call) -> dict[str, str]:
    blocks = call.params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return {
        e["text"]["text"]: e["value"]
        for block in blocks
        if block["type"] == "actions"
        for e in block["elements"]
    }


async def test_a_discord_channel_a_telegram_group_and_a_slack_channel_study_as_one_room(
    core: Runtime,
    clock: FixedClock,
    discord_bot: TeddyDiscord,
    discord_standin: DiscordStandIn,
    telegram: TelegramBot,
    slack: SlackAdapter,
    http: httpx.AsyncClient,
    standin: SlackStandIn,
) -> None:
    """`standin`, `slack` and `http` are Slack's (the fixtures of test_slack)."""
    tg, sl, dc, slack_http = telegram, standin, discord_standin, http
    # Alice links her Telegram account to her Discord one: one person on both.
    linked = await discord_command(dc, "link", {}, dm=True)
    code = linked["data"]["content"].split("code: ")[1].split()[0].strip("*`")
    assert "Linked" in await telegram_says(tg, ALICE_TG, f"/link {code}")

    # Discord (Alice administers the server) links the Telegram group and the Slack channel.
    first = await discord_command(dc, "room", {"setting": "link"})
    tg.standin.admins.add((GROUP, BEN["id"]))
    joined = await telegram_says(tg, BEN, f"/room join {code_in(first['data']['content'])}")
    assert "now shares one room with: Discord · #study" in joined
    second = await discord_command(dc, "room", {"setting": "link"})
    slack_joined = await slack_command(
        slack_http, sl, f"room join {code_in(second['data']['content'])}"
    )
    assert "now shares one room" in slack_joined.params["text"]
    listed = await telegram_says(tg, BEN, "/room")
    assert "linked chats (3): Discord · #study, Telegram · Bio group, Slack · class-42" in listed
    assert str(GROUP) not in listed and SLACK_CHANNEL not in listed and TEXT_CHANNEL not in listed

    # A focus session started in Discord reaches the other two through the outbox.
    started = await discord_command(dc, "focus", {"minutes": 25, "break": 5})
    discord_message = list(dc.originals.values())[-1]
    await drain(core, telegram.adapter.deliverer())
    await drain(core, slack.deliverer())
    async with core.db.transaction() as session:
        tg_live = await outbox.live_message_id(session, "telegram", str(GROUP), "focus-1")
        sl_live = await outbox.live_message_id(session, "slack", SLACK_CHANNEL, "focus-1")
    assert tg_live is not None and sl_live is not None
    tg_message = tg.standin.message(GROUP, int(tg_live))
    assert tg_message is not None and "Group focus" in tg_message["text"]
    keyboard = tg_message["reply_markup"]["inline_keyboard"]
    tg_join = next(b["callback_data"] for row in keyboard for b in row if b["text"] == "Join")

    # Joined from Telegram (Ben, then Alice's Telegram account) and from Slack (Cat).
    await tg.process(callback_update(BEN, tg_join, tg_message))
    await tg.process(callback_update(ALICE_TG, tg_join, tg_message))
    sl_posts = [c for c in sl.named("chat.postMessage") if "Group focus" in c.params["text"]]
    join = slack_buttons(sl_posts[0])["Join"]
    await post_form(slack_http, slack_click(join, channel=SLACK_CHANNEL, user="U3", ts="5.5"))
    slack_join = await sl.wait_for("chat.update")
    assert "In (3)" in slack_join[-1].params["text"]
    await drain(core, discord_bot.deliverer())
    discord_edits = dc.named("PATCH", f"/channels/{TEXT_CHANNEL}/messages/{discord_message}")
    assert "In (3)" in discord_edits[-1].body["content"]
    assert "In (1): " in started["data"]["content"]

    # Each phase change edits the live message in all three chats.
    for minutes, shown in ((25, "Break: "), (5, "Focus session finished")):
        clock.advance(timedelta(minutes=minutes))
        await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})
        await drain(core, discord_bot.deliverer())
        await drain(core, telegram.adapter.deliverer())
        await drain(core, slack.deliverer())
        edit = dc.named("PATCH", f"/channels/{TEXT_CHANNEL}/messages/{discord_message}")[-1]
        assert shown in edit.body["content"]
        tg_edit = [c for c in tg.standin.sent("editMessageText") if c.chat_id == str(GROUP)][-1]
        assert tg_edit.params["message_id"] == tg_live and shown in tg_edit.params["text"]
        sl_edit = [c for c in sl.named("chat.update") if c.params["channel"] == SLACK_CHANNEL][-1]
        assert sl_edit.params["ts"] == sl_live and shown in sl_edit.params["text"]

    # The leaderboard: three people, Alice once though she was there on two platforms.
    board = (await discord_command(dc, "leaderboard", {}))["data"]["content"]
    assert len([line for line in board.splitlines() if ": 25 min" in line]) == 3

    # A room task done in Slack is done in Telegram.
    await slack_command(slack_http, sl, "roomtask Poster draft")
    done = await slack_command(slack_http, sl, "roomdone 1")
    assert "Poster draft" in done.params["text"]
    assert "Poster draft" in await telegram_says(tg, BEN, "/roomtasks done")

    # The Telegram group removes the bot: it is unlinked, and the others are told.
    await discord_command(dc, "room", {"setting": "relay", "value": "on"})
    await discord_command(dc, "say", {"text": "break's over"})
    tg.standin.block(GROUP)
    await drain(core, telegram.adapter.deliverer())
    await drain(core, discord_bot.deliverer())
    channel_posts = dc.named("POST", f"/channels/{TEXT_CHANNEL}/messages")
    posted = [c.body.get("content", "") for c in channel_posts]
    assert any("Telegram · Bio group removed Teddy" in p for p in posted)
    relayed = await slack_relay(slack, sl, core)
    assert any("alice" in t.lower() and "(Discord): break's over" in t for t in relayed)


async def slack_relay(slack: SlackAdapter, standin: SlackStandIn, core: Runtime) -> list[str]:
    await drain(core, slack.deliverer())
    return [str(c.params["text"]) for c in standin.named("chat.postMessage")]
