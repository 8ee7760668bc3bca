"""Room events over Redis pub/sub edit the live message at once in the bot process of the
event's platform, without waiting for the outbox: a focus session's phase change from the
sweep, and an event published by another OS process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bots.live import ShowEvent, follow_room_events
from core.clock import FixedClock
from core.jobs import JobContext, run_job
from core.rooms.pubsub import RedisRoomEvents, RoomEvent, RoomFeed, channel
from teddy.runtime import Runtime
from tests.e2e import test_discord as discord_base
from tests.e2e.test_discord import start_client, stop_client
from tests.e2e.test_discord_flows import buttons, run
from tests.support.discord_standin import TEXT_CHANNEL, DiscordStandIn
from tests.support.telegram_harness import running_bot, wait_for
from tests.support.telegram_standin import message_update, user

ALICE = user(111, "Alice")
GROUP = -100123
AT_ONCE = 1.0  # seconds from the publish to the edit at the platform

standin = discord_base.standin  # the Discord stand-in fixture


@asynccontextmanager
async def following(core: Runtime, platform: str, show: ShowEvent) -> AsyncIterator[RoomFeed]:
    """The bot's room-event follower running, subscribed; yields a feed of its own that
    sees every event too (to learn what the sweep published)."""
    listener = RedisRoomEvents(core.servers.redis_url)
    feed = await listener.subscribe()
    redis = core.services.redis
    assert redis is not None
    stop = asyncio.Event()
    task = asyncio.create_task(follow_room_events(core.services.room_events, platform, show, stop))
    try:
        deadline = time.monotonic() + 10
        while await pattern_subscribers(redis) < 2:  # ours and the bot's
            assert time.monotonic() < deadline, "the bot never subscribed"
            await asyncio.sleep(0.02)
        yield feed
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
        await feed.close()
        await listener.close()


async def pattern_subscribers(redis: Any) -> int:
    clients = await redis.execute_command("CLIENT", "LIST")
    text = clients.decode() if isinstance(clients, bytes) else str(clients)
    return sum(" psub=1 " in f" {line} " for line in text.splitlines())


async def sweep(core: Runtime, clock: FixedClock, minutes: int) -> float:
    """Run the focus sweep `minutes` later; returns when it had published (monotonic)."""
    clock.advance(timedelta(minutes=minutes))
    await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})
    return time.monotonic()


def publish_from_another_process(redis_url: str, event: RoomEvent) -> float:
    """PUBLISH the event from a separate Python process; returns when it was published."""
    code = "import redis, sys; redis.Redis.from_url(sys.argv[1]).publish(sys.argv[2], sys.argv[3])"
    subprocess.run(
        [sys.executable, "-c", code, redis_url, channel(event.room_id), event.to_json()],
        check=True,
        timeout=30,
    )
    return time.monotonic()


async def test_a_phase_change_edits_the_telegram_live_message_at_once(
    core: Runtime, clock: FixedClock
) -> None:
    async with running_bot(core) as bot:
        await bot.process(message_update(ALICE, "/focus 25", chat_id=GROUP))
        [started] = bot.standin.sent("sendMessage")
        edits = lambda: bot.standin.sent("editMessageText")  # noqa: E731
        async with following(core, "telegram", bot.adapter.show_room_event) as feed:
            published = await sweep(core, clock, 25)
            await wait_for(lambda: len(edits()) == 1, timeout=AT_ONCE)
            assert time.monotonic() - published < AT_ONCE
            [edit] = edits()
            assert (edit.chat_id, edit.params["message_id"]) == (str(GROUP), "1")
            assert "Break: <b>5 min</b> left (until 09:30)" in edit.params["text"]
            assert edit.keyboard == started.keyboard

            event = await feed.next(timeout=5)
            assert event is not None and event.type == "focus.phase"
            again = replace(event, text=event.text.replace("5 min", "4 min"))
            published = publish_from_another_process(core.servers.redis_url, again)
            await wait_for(lambda: len(edits()) == 2, timeout=AT_ONCE)
            assert "Break: <b>4 min</b> left" in edits()[-1].params["text"]

            # The text it shows already, and an event for another platform: no edit.
            publish_from_another_process(core.servers.redis_url, again)
            elsewhere = replace(again, platform="discord", text="not for Telegram")
            publish_from_another_process(core.servers.redis_url, elsewhere)
            await asyncio.sleep(0.5)
            assert len(edits()) == 2
        assert len(bot.standin.sent("sendMessage")) == 1  # never sent anew


async def test_a_phase_change_edits_the_discord_live_message_at_once(
    core: Runtime, standin: DiscordStandIn, clock: FixedClock
) -> None:
    client, task = await start_client(core, standin)
    try:
        started = await run(standin, "focus", {"minutes": 25}, dm=False)
        message_id = list(standin.originals.values())[-1]
        path = f"/channels/{TEXT_CHANNEL}/messages/{message_id}"
        async with following(core, "discord", client.show_room_event):
            published = await sweep(core, clock, 25)
            await standin.wait_for("PATCH", path, timeout=AT_ONCE)
            assert time.monotonic() - published < AT_ONCE
            [swept] = standin.named("PATCH", path)
            assert "☕ Break: **5 min** left (until 09:30)" in swept.body["content"]
            assert buttons({"data": swept.body}) == buttons(started)
    finally:
        await stop_client(client, task)
