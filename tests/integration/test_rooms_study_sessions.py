"""Study sessions from voice channels and manual logs, as the Discord adapter and the
dashboard use them."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.errors import BadInput
from core.identity.models import Membership, Room, User
from core.jobs import JobContext, run_job
from core.rooms import service, study
from core.rooms.models import StudySession
from teddy.runtime import Runtime


async def setup_voice(
    core: Runtime, make_chat, *, study_channel: bool = True
) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """A study voice channel `v1`, a plain one `v2`, and Dan (not yet a member of either)."""
    admin = make_chat("ada", room="v1")
    await admin.say("/room")
    if study_channel:
        assert "counts" in await admin.say("/room voice on")
    await make_chat("ada", room="v2").say("/room")
    await make_chat("dan").say("/start")
    async with core.db.transaction() as session:
        v1 = await session.scalar(select(Room.id).where(Room.title == "v1"))
        v2 = await session.scalar(select(Room.id).where(Room.title == "v2"))
        dan = await session.scalar(select(User.id).where(User.display_name == "Dan"))
    assert v1 and v2 and dan
    return v1, v2, dan


async def test_time_in_a_study_voice_channel_becomes_a_voice_study_session(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    v1, v2, dan = await setup_voice(core, make_chat)
    t0 = clock.now()
    async with core.db.transaction() as s:
        assert await study.voice_joined(s, user_id=dan, room_id=v1, at=t0) is not None
        # A repeated join event (adapter reconnect) does not open a second session.
        await study.voice_joined(s, user_id=dan, room_id=v1, at=t0 + timedelta(minutes=1))
        assert await service.running_focus(s, v1) is None
        assert await s.scalar(
            select(Membership.id).where(Membership.room_id == v1, Membership.user_id == dan)
        )
    async with core.db.transaction() as s:
        closed = await study.voice_left(s, user_id=dan, room_id=v1, at=t0 + timedelta(minutes=40))
        assert closed is not None and closed.minutes == 40
        assert (
            await study.voice_left(s, user_id=dan, room_id=v1, at=t0 + timedelta(hours=1)) is None
        )
        # A plain voice channel does not count.
        assert await study.voice_joined(s, user_id=dan, room_id=v2, at=t0) is None
        assert await study.study_minutes(
            s, user_id=dan, since=t0, until=t0 + timedelta(days=1)
        ) == {"voice": 40}
    assert "Dan: 40 min" in await make_chat("ada", room="v1").say("/leaderboard")


async def test_moving_to_another_channel_ends_the_first_session(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    v1, v2, dan = await setup_voice(core, make_chat)
    t0 = clock.now()
    async with core.db.transaction() as s:
        await study.voice_joined(s, user_id=dan, room_id=v1, at=t0)
        await study.voice_joined(s, user_id=dan, room_id=v2, at=t0 + timedelta(minutes=15))
        sessions = await study.study_sessions(
            s, user_id=dan, since=t0, until=t0 + timedelta(days=1)
        )
    assert [(x.room_id, x.minutes) for x in sessions] == [(v1, 15)]


async def test_a_disconnect_without_leave_event_ends_at_the_last_heartbeat(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    v1, _, dan = await setup_voice(core, make_chat)
    t0 = clock.now()
    async with core.db.transaction() as s:
        await study.voice_joined(s, user_id=dan, room_id=v1, at=t0)
        assert await study.voice_seen(s, room_id=v1, user_ids=[dan], at=t0 + timedelta(minutes=20))
    clock.advance(timedelta(minutes=30))
    jc = JobContext(core.db, core.services)
    await run_job("rooms.sweep_voice", jc, {})
    async with core.db.transaction() as s:
        still_open = await s.scalar(select(StudySession).where(StudySession.ended_at.is_(None)))
        assert still_open is not None  # 10 minutes since the heartbeat: not stale yet
    clock.advance(timedelta(minutes=10))
    await run_job("rooms.sweep_voice", jc, {})
    await run_job("rooms.sweep_voice", jc, {})
    async with core.db.transaction() as s:
        sessions = list(await s.scalars(select(StudySession)))
    assert [(x.minutes, x.ended_at) for x in sessions] == [(20, t0 + timedelta(minutes=20))]


async def test_a_session_kept_alive_forever_is_capped(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    v1, _, dan = await setup_voice(core, make_chat)
    t0 = clock.now()
    async with core.db.transaction() as s:
        await study.voice_joined(s, user_id=dan, room_id=v1, at=t0)
        await study.voice_seen(s, room_id=v1, user_ids=[dan], at=t0 + timedelta(hours=20))
        assert await study.close_stale_voice_sessions(s, t0 + timedelta(hours=20)) == 1
        sessions = await study.study_sessions(
            s, user_id=dan, since=t0, until=t0 + timedelta(days=1)
        )
    assert [x.minutes for x in sessions] == [12 * 60]


async def test_manual_sessions_are_checked_and_counted(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    _, _, dan = await setup_voice(core, make_chat, study_channel=False)
    t0 = clock.now()
    async with core.db.transaction() as s:
        with pytest.raises(BadInput):
            await study.log_manual_session(s, user_id=dan, started_at=t0, ended_at=t0)
        with pytest.raises(BadInput):
            await study.log_manual_session(
                s, user_id=dan, started_at=t0, ended_at=t0 + timedelta(hours=17)
            )
        await study.log_manual_session(
            s, user_id=dan, started_at=t0, ended_at=t0 + timedelta(minutes=45)
        )
        assert await study.study_minutes(
            s, user_id=dan, since=t0, until=t0 + timedelta(days=1)
        ) == {"manual": 45}
        # Someone else's minutes are not Dan's.
        ada = await s.scalar(select(User.id).where(User.display_name == "Ada"))
        assert ada is not None
        assert (
            await study.study_minutes(s, user_id=ada, since=t0, until=t0 + timedelta(days=1)) == {}
        )
