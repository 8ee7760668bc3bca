"""The web benchmark's page and live-room parts: time to first byte of every page for a
user with a year of history, and how long a focus session's phase change takes to reach a
room page's WebSocket (the sweep publishes it on the room's Redis channel)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

from websockets.asyncio.client import ClientConnection, connect

from bench._common import percentile
from core.chat.messages import Conversation
from core.clock import Clock, FixedClock
from core.identity.models import Room, User
from core.identity.service import room_for_chat
from core.jobs import JobContext, run_job
from core.rooms import service as rooms
from teddy.runtime import Runtime

PAGE_GOAL_MS = 100.0
LIVE_GOAL_MS = 1000.0


def pages(room_id: int) -> list[str]:
    return [
        "/dashboard?period=week",
        "/dashboard?period=month",
        "/dashboard?period=all",
        "/insights",
        "/plan",
        "/tasks",
        "/decks",
        "/review",
        "/documents",
        "/documents/ask",
        "/tutor",
        "/rooms",
        f"/rooms/{room_id}",
        "/link",
        "/settings",
    ]


async def study_room(core: Runtime, user_id: int) -> int:
    """A group room the user is a member of (as a chat message there would make it)."""
    chat = Conversation("bench", "bench-room", is_direct=False, title="Bench room")
    async with core.db.transaction() as session:
        user = await session.get(User, user_id)
        assert user is not None
        return (await room_for_chat(session, chat, user)).id


def verdict(samples_ms: list[float], goal_ms: float) -> str:
    p99 = percentile(samples_ms, 99)
    return f"goal {goal_ms:.0f} ms: {'ok' if p99 <= goal_ms else 'OVER'}"


async def _phase_changed(socket: ClientConnection) -> None:
    while True:
        data = json.loads(await socket.recv())
        if data["type"] == "focus.phase":
            return


async def room_update_latencies(
    core: Runtime, base: str, cookie: str, user_id: int, room_id: int, rounds: int
) -> tuple[list[float], list[float]]:
    """Per round: a focus session starts, the sweep runs with its clock past the focus
    phase's end, and the page's WebSocket waits for the `focus.phase` panel. Returns the
    seconds from the sweep's start, and from its commit, to that message."""
    from_start: list[float] = []
    from_commit: list[float] = []
    real: Clock = core.services.clock
    url = f"ws://{base.removeprefix('http://')}/rooms/{room_id}/live"
    headers = {"Cookie": f"teddy_session={cookie}", "Origin": base}
    async with connect(url, additional_headers=headers) as socket:
        await socket.recv()  # the panel sent on connecting
        for _ in range(rounds):
            now = datetime.now(UTC)
            async with core.db.transaction() as session:
                user = await session.get(User, user_id)
                room = await session.get(Room, room_id)
                assert user is not None and room is not None
                focus = await rooms.start_focus(
                    session, room, user, focus_minutes=25, break_minutes=5, now=now
                )
                focus_id = focus.id
            core.services.clock = FixedClock(now + timedelta(minutes=26))
            waiting = asyncio.create_task(_phase_changed(socket))
            start = time.perf_counter()
            await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})
            committed = time.perf_counter()
            await asyncio.wait_for(waiting, timeout=10)
            arrived = time.perf_counter()
            from_start.append(arrived - start)
            from_commit.append(arrived - committed)
            async with core.db.transaction() as session:
                user = await session.get(User, user_id)
                room = await session.get(Room, room_id)
                assert user is not None and room is not None
                await rooms.stop_focus(session, room, user, focus_id, core.services.clock.now())
            core.services.clock = real
    return from_start, from_commit
