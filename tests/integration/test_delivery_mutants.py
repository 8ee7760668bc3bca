"""The deliverer's paths that mutation testing found unpinned (docs/testing.md): a 429 pauses
only its own tenant and the round still records the others, a chat that refuses the bot
gives up only its own undelivered rows on this platform (and a room's chat leaves its
linked room), the claim limit, the run loop's waits, its stop and a failed round, and
the log lines an operator reads."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bots.delivery import Deliverer, RetryLater, Unreachable
from core.clock import FixedClock
from core.identity.models import LinkedChat, Room, User
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage
from teddy.runtime import Runtime
from tests.integration.test_delivery import (
    FAST,
    Platform,
    deliverer,
    outcome,
    queue_for,
    running,
)
from tests.integration.test_linked_rooms import code_in


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bots.delivery"]


async def test_a_retry_after_pauses_its_tenant_only_and_the_round_records_the_rest(
    core: Runtime, make_chat: Any, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bots.delivery")
    ids = await queue_for(core, make_chat, users=3, per_user=2)  # u0 #0, u0 #1, u1 #0, ...
    tenants = {"dm-u0": "A", "dm-u1": "B", "dm-u2": "B"}
    platform = Platform(failing=lambda row: RetryLater(60) if row.chat_id == "dm-u0" else None)
    worker = Deliverer(
        core.db, clock, "test", platform.send_as("a"), FAST, tenant_of=tenants.__getitem__
    )
    async with asyncio.timeout(10):  # a pause of every tenant would hold B's sends 60 s
        assert await worker.deliver_round() == 0.0
    # u0's 429 came first; the rows after it in the round are still marked.
    assert [(await outcome(core, i)).delivered for i in ids] == [False] * 2 + [True, False] * 2
    assert (await outcome(core, ids[0])).attempts == 0
    assert "test asked to wait 60s; delivery to A paused" in messages(caplog)
    async with asyncio.timeout(10):
        assert await worker.deliver_round() == 0.0  # B goes on while A waits
    assert sorted(i for _, i in platform.got) == ids[2:]
    assert not (await outcome(core, ids[1])).delivered


async def test_a_retry_after_for_the_one_budget_pauses_all_chats(
    core: Runtime, make_chat: Any, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bots.delivery")
    ids = await queue_for(core, make_chat, users=2)
    platform = Platform(failing=lambda row: RetryLater(60) if row.id == ids[0] else None)
    # A slow platform: both sends are in flight when u0's 429 comes.
    send = platform.send_as("a", pause=0.01)
    worker = Deliverer(core.db, clock, "test", send, FAST, idle_seconds=5)
    await worker.deliver_round()  # u0 is told to wait (u1 went out in the same round)
    assert "test asked to wait 60s; delivery to all chats paused" in messages(caplog)
    assert await worker.deliver_round() == 5  # u0 is paused: nothing to send
    assert [i for _, i in platform.got] == ids[1:]


async def test_a_failed_send_is_logged_with_platform_row_and_error(
    core: Runtime, make_chat: Any, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bots.delivery")
    [row_id] = await queue_for(core, make_chat, users=1)
    platform = Platform(failing=lambda row: ConnectionError("platform down"))
    await deliverer(core, clock, platform.send_as("a")).deliver_round()
    assert messages(caplog) == [f"test delivery of {row_id} failed: platform down"]


async def test_a_refusing_chat_gives_up_only_its_own_undelivered_rows_on_this_platform(
    core: Runtime, make_chat: Any, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bots.delivery")
    [delivered, _] = await queue_for(core, make_chat, users=2)  # u0's went out, u1's too
    refusing = False
    error = "blocked " + "x" * 1500
    platform = Platform(
        failing=lambda row: Unreachable(error) if refusing and row.chat_id == "dm-u0" else None
    )
    worker = deliverer(core, clock, platform.send_as("a"))
    await worker.deliver_round()
    now = clock.now()
    later = now + timedelta(days=1)
    async with core.db.transaction() as session:
        ann, other = await session.scalars(select(User).order_by(User.id))
        for user, key, at in ((ann, "now", now), (ann, "later", later), (other, "later2", later)):
            await outbox.notify_user(
                session, user, kind="t", text=key, dedupe_key=key, at=at, respect_quiet_hours=False
            )
        elsewhere = OutboxMessage(
            dedupe_key="elsewhere",
            platform="elsewhere",
            chat_id="dm-u0",
            kind="t",
            text="same chat id, another platform",
            deliver_after=now,
        )
        session.add(elsewhere)
        await session.flush()
        keys = {
            row.dedupe_key: row.id
            for row in await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        }
    refusing = True
    await worker.deliver_round()
    for key in ("now", "later"):  # the one tried and the one not yet due
        state = await outcome(core, keys[key])
        assert (state.given_up, state.attempts, state.last_error) == (
            True,
            outbox.MAX_ATTEMPTS,
            error[:1000],
        )
    kept = await outcome(core, delivered)
    assert (kept.delivered, kept.attempts, kept.last_error) == (True, 1, None)
    for key in ("later2", "elsewhere"):  # another chat; the same id on another platform
        state = await outcome(core, keys[key])
        assert (state.given_up, state.attempts, state.last_error) == (False, 0, None)
    assert f"test chat dm-u0 refuses the bot: {error}" in messages(caplog)


async def test_a_room_chat_that_refuses_the_bot_leaves_its_linked_room(
    core: Runtime, make_chat: Any, clock: FixedClock
) -> None:
    ann = make_chat("ann", room="study-hall", platform="discord")
    cat = make_chat("cat", room="class-42", platform="slack")
    link = await ann.send("/room link", sender_is_admin=True)
    joined = await cat.send(f"/room join {code_in(link[0].plain_text())}", sender_is_admin=True)
    assert "now shares one room" in joined[0].plain_text()
    async with core.db.transaction() as session:
        room = await session.scalar(select(Room).where(Room.platform == "slack"))
        assert room is not None
        await outbox.notify_room(
            session, room, kind="t", text="hi", dedupe_key="hi", at=clock.now()
        )
    platform = Platform(failing=lambda row: Unreachable("kicked"))
    clock.advance(timedelta(minutes=1))
    await Deliverer(core.db, clock, "slack", platform.send_as("a"), FAST).deliver_round()
    async with core.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(LinkedChat)) == 0
        notes = list(
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.platform == "discord", OutboxMessage.text.contains("removed")
                )
            )
        )
    assert [n.text for n in notes] == [
        "🔗 Slack · class-42 removed Teddy and no longer shares this room."
    ]
    assert notes[0].deliver_after == clock.now()


async def test_a_round_claims_at_most_its_claim_limit(
    core: Runtime, make_chat: Any, clock: FixedClock
) -> None:
    ids = await queue_for(core, make_chat, users=5)
    platform = Platform()
    worker = deliverer(core, clock, platform.send_as("a"), claim_limit=2)
    await worker.deliver_round()
    assert [i for _, i in platform.got] == ids[:2]


async def test_the_loop_waits_a_short_wait_out_and_stop_ends_the_wait(
    core: Runtime, clock: FixedClock
) -> None:
    worker = deliverer(core, clock, Platform().send_as("a"))
    rounds = 0
    waited = [asyncio.Event(), asyncio.Event()]

    async def half_a_second_then_an_hour() -> float:
        nonlocal rounds
        waited[rounds].set()
        rounds += 1
        return 0.5 if rounds == 1 else 3600.0

    worker.deliver_round = half_a_second_then_an_hour  # type: ignore[method-assign]
    stop = asyncio.Event()
    loop = asyncio.create_task(worker.run(stop))
    async with asyncio.timeout(5):
        await waited[0].wait()
        for _ in range(50):
            await asyncio.sleep(0)  # a loop that skipped the wait would claim again by now
        assert rounds == 1
        await waited[1].wait()  # half a second later: the next round, asking an hour
        stop.set()
        await loop  # the stop, not the hour, ends the wait
    assert rounds == 2


async def test_a_round_that_raises_is_logged_and_the_loop_goes_on(
    core: Runtime, make_chat: Any, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bots.delivery")
    [row_id] = await queue_for(core, make_chat, users=1)
    platform = Platform()
    worker = deliverer(core, clock, platform.send_as("a"))
    real_round = worker.deliver_round
    failed: list[bool] = []

    async def failing_once() -> float:
        if not failed:
            failed.append(True)
            raise RuntimeError("database gone")
        return await real_round()

    worker.deliver_round = failing_once  # type: ignore[method-assign]
    async with running(worker), asyncio.timeout(5):
        await platform.arrived.wait()
    assert platform.got == [("a", row_id)]
    logged = messages(caplog)
    assert logged[:2] == ["delivering test notifications", "test delivery round failed"]
    [failure] = [r for r in caplog.records if r.getMessage() == "test delivery round failed"]
    assert failure.exc_info is not None and "database gone" in str(failure.exc_info[1])
