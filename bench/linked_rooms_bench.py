"""A linked room at scale: one room spanning a Discord channel, a Telegram group and a Slack
channel, with M members in each chat, all in one running focus session. A phase change
(focus -> break) is swept once and each platform's deliverer edits its chat's live
message through its adapter's real SDK against the local stand-in, which enforces the
platform's limits (a request beyond them gets HTTP 429).

    python -m bench.linked_rooms_bench                 # 3 chats x 200 members (the issue's size)
    python -m bench.linked_rooms_bench --members 50    # the quick run

Prints the sweep's time, then per platform the time from the phase's end until its chat's
live message showed the break (the last of the three is the figure to report), the size
of the edit against the platform's limit, and the 429s the stand-ins answered (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import text

from bench._load_discord import DiscordPath
from bots.delivery import Deliverer
from bots.slack.adapter import SlackAdapter
from bots.telegram.adapter import TelegramAdapter, build_application
from core.app import load_jobs
from core.clock import FixedClock
from core.identity.models import Room, User
from core.jobs import JobContext
from core.rooms import focus as focus_service
from core.rooms import linking, live, views
from core.rooms.jobs import sweep_focus_once
from core.settings import Settings
from teddy.runtime import Runtime, open_runtime
from tests.support.rate_limit import RateLimit
from tests.support.slack_standin import SlackStandIn
from tests.support.telegram_standin import TelegramStandIn

QUICK_ARGS = ["--members", "50"]
TELEGRAM_GROUP = "-1001234567890"
SLACK_CHANNEL = "C0LINKED"
DISCORD_CHANNEL = "961000000000000042"
LIMITS = {"telegram": 4096, "slack": 3000, "discord": 2000}


@dataclass
class Chat:
    """One platform's chat: its deliverer and what its stand-in received."""

    platform: str
    deliverer: Deliverer
    edits: Callable[[], list[tuple[float, str]]]  # (arrival, text) of each live edit
    refused: Callable[[], int]  # 429s answered


@asynccontextmanager
async def telegram(core: Runtime) -> AsyncIterator[Chat]:
    standin = TelegramStandIn()
    standin.rate_limit = RateLimit(20, 60.0)  # a group: 20 messages a minute
    await standin.start()
    settings = core.settings.model_copy(
        update={
            "telegram_bot_token": SecretStr(standin.token),
            "telegram_api_base_url": standin.url,
        }
    )
    application = build_application(settings, polling=False)
    adapter = TelegramAdapter(core, application)
    await application.initialize()
    try:
        yield Chat(
            "telegram",
            adapter.deliverer(),
            lambda: [
                (c.at, str(c.params.get("text", "")))
                for c in standin.calls
                if c.method == "editMessageText" and c.status == 200
            ],
            lambda: sum(1 for c in standin.calls if c.status == 429),
        )
    finally:
        await application.shutdown()
        await standin.stop()


@asynccontextmanager
async def slack(core: Runtime) -> AsyncIterator[Chat]:
    standin = SlackStandIn()
    standin.rate_limit = RateLimit(50, 60.0)  # chat.update is Tier 3: 50 a minute
    await standin.start()
    adapter = SlackAdapter(core, bot_token="xoxb-test", signing_secret="s", api_url=standin.api_url)
    try:
        yield Chat(
            "slack",
            adapter.deliverer(),
            lambda: [
                (c.at, str(c.params.get("text", "")))
                for c in standin.calls
                if c.method == "chat.update" and c.status == 200
            ],
            lambda: sum(1 for c in standin.calls if c.status == 429),
        )
    finally:
        await standin.stop()


@asynccontextmanager
async def discord(core: Runtime) -> AsyncIterator[Chat]:
    path = DiscordPath(core)
    path.standin.rate_limit = RateLimit(5, 5.0)  # a channel's messages: 5 per 5 seconds
    await path.start()
    standin = path.standin
    try:
        yield Chat(
            "discord",
            path.client.deliverer(),
            lambda: [
                (c.at, str((c.body or {}).get("content", "")))
                for c in standin.calls
                if c.method == "PATCH" and c.path.startswith("/channels/") and c.status == 200
            ],
            lambda: sum(1 for c in standin.calls if c.status == 429),
        )
    finally:
        await path.stop()


async def seed(core: Runtime, members: int) -> None:
    """Three chats linked into one room (the Discord channel's), `members` people in each,
    every one of them in the room's running focus session."""
    chats = [("discord", DISCORD_CHANNEL), ("telegram", TELEGRAM_GROUP), ("slack", SLACK_CHANNEL)]
    async with core.db.transaction() as s:
        for n, (platform, chat) in enumerate(chats, 1):
            await s.execute(
                text(
                    "INSERT INTO rooms (id, platform, external_id, title, timezone) "
                    "VALUES (:id, :p, :chat, :title, 'UTC')"
                ),
                {"id": n, "p": platform, "chat": chat, "title": f"study {platform}"},
            )
        await s.execute(
            text("INSERT INTO linked_chats (chat_room_id, room_id) VALUES (2, 1), (3, 1)")
        )
        await s.execute(
            text(
                "INSERT INTO users (id, display_name, timezone, locale) "
                "SELECT g, 'student ' || g, 'UTC', 'en' FROM generate_series(1, :n) g"
            ),
            {"n": 3 * members},
        )
        await s.execute(
            text(
                "INSERT INTO memberships (room_id, user_id, role) "
                "SELECT 1, g, 'member' FROM generate_series(1, :n) g"
            ),
            {"n": 3 * members},
        )
        await s.execute(text("SELECT setval('users_id_seq', :n)"), {"n": 3 * members})
        await s.execute(text("SELECT setval('rooms_id_seq', 3)"))


async def start_session(core: Runtime, members: int, now: datetime) -> None:
    """The focus session, everyone in it, and its live message queued to all three chats."""
    async with core.db.transaction() as s:
        room = await s.get(Room, 1)
        first = await s.get(User, 1)
        assert room is not None and first is not None
        started = await focus_service.start_focus(
            s, room, first, focus_minutes=25, break_minutes=5, now=now
        )
        await s.execute(
            text(
                "INSERT INTO focus_participants (focus_session_id, user_id, first_joined_at, "
                "joined_at, focus_seconds) SELECT :f, g, :now, :now, 0 "
                "FROM generate_series(2, :n) g"
            ),
            {"f": started.id, "now": now, "n": 3 * members},
        )
        view = await views.focus_view(s, started, room)
        chats = await linking.chats(s, room)
        await live.queue_elsewhere(s, view, now, chats=chats, except_chat_id=0)


async def drain(chat: Chat, started: float, done: Callable[[], bool]) -> float:
    """Run the deliverer until `done`; seconds since `started`."""
    stop = asyncio.Event()
    running = asyncio.create_task(chat.deliverer.run(stop))
    try:
        deadline = time.monotonic() + 120
        while not done():
            if time.monotonic() > deadline or running.done():
                break
            await asyncio.sleep(0.02)
        return time.monotonic() - started
    finally:
        stop.set()
        await running


async def main(members: int) -> None:
    logging.disable(logging.WARNING)
    load_jobs()
    start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    clock = FixedClock(start)
    with tempfile.TemporaryDirectory(prefix="teddy-bench-") as tmp:
        config = Settings(teddy_home=Path(tmp), _env_file=None)
        async with open_runtime(config, clock=clock) as core, AsyncExitStack() as stack:
            chats = [
                await stack.enter_async_context(make(core)) for make in (discord, telegram, slack)
            ]
            await seed(core, members)
            await start_session(core, members, start)
            for chat in chats:  # the live message, sent once to every chat
                await chat.deliverer.deliver_round()
            clock.set(start + timedelta(minutes=25))
            began = time.monotonic()
            await sweep_focus_once(JobContext(core.db, core.services))
            swept = time.monotonic() - began
            took = await asyncio.gather(
                *(
                    drain(c, began, lambda c=c: any("Break" in t for _, t in c.edits()))  # type: ignore[misc]
                    for c in chats
                )
            )
            print(f"linked room: 3 chats x {members} members, one focus session of {3 * members}")
            print(
                f"sweep (phase change, {3 * members} study sessions, 3 outbox rows): {swept:.3f} s"
            )
            for chat, seconds in zip(chats, took, strict=True):
                edits = [t for _, t in chat.edits() if "Break" in t]
                size = max((len(t) for t in edits), default=0)
                state = "edited" if edits else "NOT EDITED"
                print(
                    f"{chat.platform:<9} {state}: time to edit {seconds:.3f} s, "
                    f"text {size} chars (limit {LIMITS[chat.platform]}), 429s: {chat.refused()}"
                )
            print(
                f"time to the last edit: {max(took):.3f} s; 429s in all: "
                f"{sum(c.refused() for c in chats)}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=200, help="members in each chat")
    args = parser.parse_args()
    asyncio.run(main(args.members))
