"""Group focus sessions in a room, driven as three people would, with the sweep job."""

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from core.clock import FixedClock
from core.identity.models import Room, User
from core.jobs import JobContext, run_job
from core.rooms.models import StudySession
from core.rooms.pubsub import RedisRoomEvents
from teddy.runtime import Runtime, open_runtime
from tests.support.chat_driver import ChatDriver
from tests.support.chat_replies import button, outbox_texts
from tests.support.job_failures import JobFailures


async def sweep(core: Runtime) -> None:
    await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})


async def minutes_by_user(core: Runtime) -> dict[str, int]:
    async with core.db.transaction() as session:
        rows = await session.execute(
            select(User.display_name, StudySession.minutes)
            .join(User, User.id == StudySession.user_id)
            .where(StudySession.source == "focus")
        )
        return {name: minutes for name, minutes in rows.all()}


async def count_study_sessions(core: Runtime) -> int:
    async with core.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(StudySession)) or 0)


async def three_in_a_room(make_chat) -> tuple[ChatDriver, ChatDriver, ChatDriver]:  # type: ignore[no-untyped-def]
    ann, bob, cid = (make_chat(n, room="g1") for n in ("ann", "bob", "cid"))
    for person in (ann, bob, cid):
        await person.say("/room")
    return ann, bob, cid


async def test_three_people_focus_together_and_each_gets_their_minutes(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ann, bob, cid = await three_in_a_room(make_chat)
    started = await ann.send("/focus 25 5")
    assert started[0].live_id is not None
    assert "25 min" in started[0].plain_text() and "Ann" in started[0].plain_text()
    join = button(started, "Join")

    clock.advance(timedelta(minutes=5))
    joined = await bob.press(join)
    assert joined[0].live_id == started[0].live_id
    assert "In (2): Ann, Bob" in joined[0].plain_text()
    assert "20 min" in joined[0].plain_text()

    clock.advance(timedelta(minutes=5))
    await cid.press(join)
    clock.advance(timedelta(minutes=5))
    left = await cid.press(button(started, "Leave"))
    assert "In (2): Ann, Bob" in left[0].plain_text()

    clock.advance(timedelta(minutes=10))  # the focus phase ends at +25
    await sweep(core)
    assert await minutes_by_user(core) == {"Ann": 25, "Bob": 20, "Cid": 5}
    assert "Break" in (await outbox_texts(core))[-1]

    clock.advance(timedelta(minutes=5))
    await sweep(core)
    summary = (await outbox_texts(core))[-1]
    assert "finished" in summary
    assert summary.index("Ann: 25") < summary.index("Bob: 20") < summary.index("Cid: 5")

    board = await cid.say("/leaderboard")
    assert board.index("Ann") < board.index("Bob") < board.index("Cid")
    assert "25 min" in board and "20 min" in board
    status = await bob.say("/room")
    assert "focus time today: 50 min" in status and "no focus session running" in status


async def test_the_countdown_ticks_once_a_minute_and_sweeps_repeat_nothing(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ann = make_chat("ann", room="g1")
    await ann.send("/focus 3 0")
    await sweep(core)
    assert await outbox_texts(core) == []  # nothing changed yet
    clock.advance(timedelta(seconds=61))
    await sweep(core)
    await sweep(core)
    texts = await outbox_texts(core)
    assert len(texts) == 1 and "2 min" in texts[0]
    clock.advance(timedelta(minutes=5))
    await sweep(core)
    await sweep(core)
    texts = await outbox_texts(core)
    assert len(texts) == 2 and "Ann: 3 min" in texts[1]
    assert await minutes_by_user(core) == {"Ann": 3}


async def test_a_restart_mid_session_neither_loses_nor_double_counts_minutes(
    core: Runtime, make_chat, clock: FixedClock, job_failures: JobFailures
) -> None:  # type: ignore[no-untyped-def]
    ann, bob, _ = await three_in_a_room(make_chat)
    join = button(await ann.send("/focus 30 5"), "Join")
    clock.advance(timedelta(minutes=10))
    await bob.press(join)
    clock.advance(timedelta(minutes=5))
    await sweep(core)
    # The first process goes away; a new one (own engine, own dispatcher) takes over.
    await core.db.dispose()
    async with open_runtime(
        core.settings, clock=clock, servers=core.servers, run_migrations=False
    ) as restarted:
        job_failures.watch(restarted.services.jobs)
        clock.advance(timedelta(minutes=40))  # past the focus and the break
        await asyncio.gather(sweep(restarted), sweep(restarted))
        await sweep(restarted)
        assert await minutes_by_user(restarted) == {"Ann": 30, "Bob": 20}
        assert await count_study_sessions(restarted) == 2
        summaries = [t for t in await outbox_texts(restarted) if "finished" in t]
        assert len(summaries) == 1
        # A button pressed on the old message after the end changes nothing.
        late = await bob.press(join)
        assert "has ended" in late[0].plain_text()


async def test_a_button_pressed_after_the_phase_ended_catches_up_first(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ann, bob, _ = await three_in_a_room(make_chat)
    started = await ann.send("/focus 10 5")
    await bob.press(button(started, "Join"))
    clock.advance(timedelta(minutes=12))  # in the break, no sweep has run
    reply = await ann.press(button(started, "Stop"))
    assert "stopped" in reply[0].plain_text()
    assert await minutes_by_user(core) == {"Ann": 10, "Bob": 10}


async def test_stopping_during_focus_logs_the_minutes_so_far(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ann, _, _ = await three_in_a_room(make_chat)
    started = await ann.send("/focus 25")
    clock.advance(timedelta(minutes=7, seconds=40))
    stopped = await ann.press(button(started, "Stop"))
    assert stopped[0].buttons == []
    assert "Ann: 8 min" in stopped[0].plain_text()
    assert await minutes_by_user(core) == {"Ann": 8}
    assert "/focus" in await ann.say("/room")
    again = await ann.send("/focus 25")
    assert again[0].live_id != started[0].live_id


async def test_live_events_fan_out_over_redis_to_other_processes(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ann, bob, _ = await three_in_a_room(make_chat)
    async with core.db.transaction() as session:
        room_id = await session.scalar(select(Room.id))
    assert room_id is not None
    listener = RedisRoomEvents(core.servers.redis_url)  # another process's connection
    other = await listener.subscribe([room_id])
    try:
        started = await ann.send("/focus 25")
        first = await other.next(timeout=5)
        assert first is not None and first.type == "focus.started"
        await bob.press(button(started, "Join"))
        joined = await other.next(timeout=5)
        assert joined is not None and joined.type == "focus.joined"
        assert joined.live_id == started[0].live_id and "Bob" in joined.text
        assert [b["label"] for b in joined.buttons] == ["Join", "Leave", "Stop"]
        clock.advance(timedelta(minutes=25))
        await sweep(core)
        phase = await other.next(timeout=5)
        assert phase is not None and phase.type == "focus.phase" and "Break" in phase.text
    finally:
        await other.close()
        await listener.close()
    assert isinstance(core.services.room_events, RedisRoomEvents)
