"""The outbox deliverer (bots/delivery.py) against the real outbox: transient failures retry
with back-off until the attempts run out, deliverers sharing the work send each message
once, and a crash mid-round loses nothing."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bots.delivery import Deliverer, Pace, RetryLater, Unreachable
from core.clock import FixedClock
from core.identity.models import Identity, Room, User
from core.outbox import service as outbox
from core.outbox.models import OutboxMessage
from teddy.runtime import Runtime

# Pacing out of the way: these tests are about the outbox, not the platform's limits.
FAST = Pace(per_second=1000, chat_interval=0.0, group_per_minute=1000, slack=0.0)


async def queue_for(core: Runtime, make_chat, users: int, per_user: int = 1) -> list[int]:  # type: ignore[no-untyped-def]
    """`per_user` direct messages for each of `users` people; their outbox ids."""
    for i in range(users):
        await make_chat(f"u{i}").say("/start")
    now = core.services.clock.now()
    async with core.db.transaction() as session:
        for user in await session.scalars(select(User).order_by(User.id)):
            for n in range(per_user):
                await outbox.notify_user(
                    session,
                    user,
                    kind="t",
                    text=f"{user.display_name} #{n}",
                    dedupe_key=f"{user.id}:{n}",
                    at=now,
                    respect_quiet_hours=False,
                )
        return list(await session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))


@dataclass
class Outcome:
    """What the outbox says about one row: delivered, given up, or the time of its retry."""

    delivered: bool
    given_up: bool
    retry_at: datetime | None
    attempts: int
    last_error: str | None


async def outcome(core: Runtime, row_id: int) -> Outcome:
    async with core.db.transaction() as session:
        row = await session.get(OutboxMessage, row_id)
        assert row is not None
        delivered = row.delivered_at is not None
        given_up = not delivered and row.attempts >= outbox.MAX_ATTEMPTS
        retry_at = None if delivered or given_up else row.deliver_after
        return Outcome(delivered, given_up, retry_at, row.attempts, row.last_error)


class Platform:
    """A platform's send: records each message it got, fails while `failing` says so."""

    def __init__(self, failing: Callable[[OutboxMessage], BaseException | None] = lambda r: None):
        self.failing = failing
        self.got: list[tuple[str, int]] = []  # (deliverer, outbox id)
        self.arrived = asyncio.Event()

    def send_as(self, name: str, pause: float = 0.0):  # type: ignore[no-untyped-def]
        async def send(row: OutboxMessage, edit_of: str | None) -> str | None:
            if pause:
                await asyncio.sleep(pause)
            error = self.failing(row)
            if error is not None:
                raise error
            self.got.append((name, row.id))
            self.arrived.set()
            return f"m{row.id}"

        return send


def deliverer(core: Runtime, clock: FixedClock, send, **kw) -> Deliverer:  # type: ignore[no-untyped-def]
    return Deliverer(core.db, clock, "test", send, FAST, idle_seconds=0.05, **kw)


@asynccontextmanager
async def running(worker: Deliverer) -> AsyncIterator[None]:
    """`worker.run` in the background for the body of the `async with`, stopped after it."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def test_a_failing_send_is_retried_after_15_s_then_doubling_until_it_is_given_up(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    [row_id] = await queue_for(core, make_chat, users=1)
    platform = Platform(failing=lambda row: ConnectionError("platform down"))
    worker = deliverer(core, clock, platform.send_as("a"))
    start = clock.now()
    waits = []
    for attempt in range(1, outbox.MAX_ATTEMPTS):
        assert await worker.deliver_round() == 0.0  # tried (and failed) now
        state = await outcome(core, row_id)
        assert (state.attempts, state.given_up, state.delivered) == (attempt, False, False)
        assert state.last_error == "ConnectionError: platform down"
        assert state.retry_at is not None
        wait = state.retry_at - clock.now()
        waits.append(int(wait.total_seconds()))
        clock.advance(wait - timedelta(seconds=1))
        assert await worker.deliver_round() == worker.idle_seconds  # a second early: nothing
        clock.advance(timedelta(seconds=1))
    assert waits == [15, 30, 60, 120, 240, 480, 960]
    assert await worker.deliver_round() == 0.0  # the last attempt fails too
    state = await outcome(core, row_id)
    assert (state.attempts, state.given_up, state.retry_at) == (outbox.MAX_ATTEMPTS, True, None)
    clock.set(start + timedelta(days=30))
    assert await worker.deliver_round() == worker.idle_seconds  # given up: never again
    assert platform.got == []


async def test_a_send_that_fails_once_is_delivered_on_its_retry_15_s_later(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    [row_id] = await queue_for(core, make_chat, users=1)
    failures = [TimeoutError("slow")]
    platform = Platform(failing=lambda row: failures.pop() if failures else None)
    worker = deliverer(core, clock, platform.send_as("a"))
    await worker.deliver_round()
    state = await outcome(core, row_id)
    assert (state.retry_at, state.given_up) == (clock.now() + timedelta(seconds=15), False)
    clock.advance(timedelta(seconds=15))
    await worker.deliver_round()
    state = await outcome(core, row_id)
    assert (state.delivered, state.attempts, state.retry_at) == (True, 2, None)
    assert platform.got == [("a", row_id)]


async def test_a_retry_after_from_the_platform_costs_no_attempt(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    [row_id] = await queue_for(core, make_chat, users=1)
    answers: list[BaseException | None] = [RetryLater(0.05)]
    platform = Platform(failing=lambda row: answers.pop() if answers else None)
    worker = deliverer(core, clock, platform.send_as("a"))
    await worker.deliver_round()
    state = await outcome(core, row_id)
    assert (state.attempts, state.retry_at, state.last_error) == (0, clock.now(), None)
    await asyncio.sleep(0.06)  # the pause the platform asked for (real time: the pacer's)
    await worker.deliver_round()
    assert (await outcome(core, row_id)).delivered


async def test_two_deliverers_sharing_the_outbox_send_every_message_exactly_once(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ids = await queue_for(core, make_chat, users=12, per_user=3)
    platform = Platform()
    # Small claims and a slow platform: both deliverers hold rows at the same time.
    one = deliverer(core, clock, platform.send_as("one", pause=0.02), claim_limit=4)
    two = deliverer(core, clock, platform.send_as("two", pause=0.02), claim_limit=4)
    stop = asyncio.Event()
    runs = [asyncio.create_task(d.run(stop)) for d in (one, two)]
    try:
        async with asyncio.timeout(30):
            while len(platform.got) < len(ids):
                await platform.arrived.wait()
                platform.arrived.clear()
            await asyncio.sleep(0.3)  # a duplicate would arrive now
    finally:
        stop.set()
        await asyncio.gather(*runs)
    sent = Counter(row_id for _, row_id in platform.got)
    assert sorted(sent) == ids and set(sent.values()) == {1}
    assert {name for name, _ in platform.got} == {"one", "two"}  # they did share
    assert one.sent + two.sent == len(ids)
    for row_id in ids:
        assert (await outcome(core, row_id)).delivered


async def test_a_crash_mid_round_resends_that_rounds_messages_and_loses_none(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ids = await queue_for(core, make_chat, users=6)
    platform = Platform()
    in_flight = asyncio.Event()
    sent_before_crash: list[int] = []

    async def send_then_hang(row: OutboxMessage, edit_of: str | None) -> str | None:
        if len(sent_before_crash) < 3:
            sent_before_crash.append(row.id)  # the platform got it...
            return f"m{row.id}"
        in_flight.set()
        await asyncio.Event().wait()  # ...and the process dies while this one is in flight
        raise AssertionError("unreachable")

    crashing = deliverer(core, clock, send_then_hang)
    round_task = asyncio.create_task(crashing.deliver_round())
    await asyncio.wait_for(in_flight.wait(), 10)
    round_task.cancel()
    await asyncio.gather(round_task, return_exceptions=True)
    for row_id in ids:  # the round never committed: nothing is marked
        state = await outcome(core, row_id)
        assert (state.delivered, state.attempts) == (False, 0)

    restarted = deliverer(core, clock, platform.send_as("restarted"))
    assert await restarted.deliver_round() == 0.0
    assert sorted(row_id for _, row_id in platform.got) == ids  # nothing lost
    # At least once: what the platform got before the crash comes again, nothing more.
    assert len(sent_before_crash) == 3 and set(sent_before_crash) <= set(ids)
    for row_id in ids:
        assert (await outcome(core, row_id)).delivered
    assert await restarted.deliver_round() == restarted.idle_seconds


async def test_a_chat_that_refuses_the_bot_gives_up_its_queue_and_marks_the_account(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ids = await queue_for(core, make_chat, users=2, per_user=2)
    platform = Platform(
        failing=lambda row: Unreachable("blocked") if row.chat_id == "dm-u0" else None
    )
    worker = deliverer(core, clock, platform.send_as("a"))
    for _ in range(3):
        await worker.deliver_round()
    states = {row_id: await outcome(core, row_id) for row_id in ids}
    refused = [s for s in states.values() if s.given_up]
    assert len(refused) == 2 and {s.last_error for s in refused} == {"blocked"}
    assert sorted(row_id for _, row_id in platform.got) == [
        row_id for row_id, s in states.items() if s.delivered
    ]
    assert len(platform.got) == 2  # the other person's two
    async with core.db.transaction() as session:
        blocked = await session.scalar(select(Identity).where(Identity.dm_chat_id == "dm-u0"))
        fine = await session.scalar(select(Identity).where(Identity.dm_chat_id == "dm-u1"))
    assert blocked is not None and blocked.unreachable is True
    assert fine is not None and fine.unreachable is False


async def test_a_live_message_is_sent_once_then_edited_by_its_platform_id(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    await make_chat("u0").say("/start")
    edits: list[tuple[str, str | None]] = []

    async def send(row: OutboxMessage, edit_of: str | None) -> str | None:
        edits.append((row.text, edit_of))
        return edit_of or "platform-42"

    worker = deliverer(core, clock, send)
    for step in ("1 of 3", "2 of 3"):
        async with core.db.transaction() as session:
            user = await session.scalar(select(User))
            assert user is not None
            await outbox.notify_user(
                session,
                user,
                kind="progress",
                text=step,
                dedupe_key=step,
                at=clock.now(),
                respect_quiet_hours=False,
                live_id="upload",
            )
        await worker.deliver_round()
    assert edits == [("1 of 3", None), ("2 of 3", "platform-42")]
    async with core.db.transaction() as session:
        assert await outbox.live_message_id(session, "test", "dm-u0", "upload") == "platform-42"


async def test_a_round_sends_one_message_per_chat_and_a_seconds_worth_per_tenant(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    await queue_for(core, make_chat, users=4, per_user=2)
    platform = Platform()
    pace = Pace(per_second=1, chat_interval=0.0, group_per_minute=1000, slack=0.0)
    halves = {"dm-u0": "A", "dm-u1": "A", "dm-u2": "B", "dm-u3": "B"}
    worker = Deliverer(
        core.db, clock, "test", platform.send_as("a"), pace, tenant_of=halves.__getitem__
    )
    await worker.deliver_round()
    firsts = [row_id for _, row_id in platform.got]
    assert len(firsts) == 2  # one per tenant: its one message a second
    async with core.db.transaction() as session:
        chats = list(
            await session.scalars(select(OutboxMessage.chat_id).where(OutboxMessage.id.in_(firsts)))
        )
    assert sorted(halves[c] for c in chats) == ["A", "B"]


async def test_a_room_waits_its_per_minute_limit_and_a_direct_chat_does_not(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    await make_chat("ann", room="study").say("/start")
    await make_chat("ann").say("/start")
    async with core.db.transaction() as session:
        room = await session.scalar(select(Room))
        user = await session.scalar(select(User))
        assert room is not None and user is not None
        for n in range(2):
            await outbox.notify_room(
                session, room, kind="t", text=f"room {n}", dedupe_key=f"r{n}", at=clock.now()
            )
            await outbox.notify_user(
                session,
                user,
                kind="t",
                text=f"dm {n}",
                dedupe_key=f"d{n}",
                at=clock.now(),
                respect_quiet_hours=False,
            )
    platform = Platform()
    pace = Pace(per_second=100, chat_interval=0.0, group_per_minute=1, slack=0.0)
    worker = Deliverer(core.db, clock, "test", platform.send_as("a"), pace, idle_seconds=120)
    await worker.deliver_round()
    await worker.deliver_round()
    async with core.db.transaction() as session:
        texts = [
            row.text
            for row in await session.scalars(
                select(OutboxMessage).where(OutboxMessage.id.in_([i for _, i in platform.got]))
            )
        ]
    assert sorted(texts) == ["dm 0", "dm 1", "room 0"]
    # Only the room's second message is left: the next round is when its chat is free again.
    assert 59.0 < await worker.deliver_round() <= 60.0


async def test_a_running_deliverer_sends_what_is_queued_while_it_idles(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    await make_chat("u0").say("/start")
    platform = Platform()
    async with running(deliverer(core, clock, platform.send_as("a"))):
        await asyncio.sleep(0.2)  # a few idle rounds
        [row_id] = await queue_for(core, make_chat, users=1)
        async with asyncio.timeout(5):
            await platform.arrived.wait()
    assert platform.got == [("a", row_id)]
