"""Who may see and change a room's things, membership events, admin roles, bad input."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from core.clock import FixedClock
from core.errors import Forbidden
from core.identity.models import Room, User
from core.rooms import service
from teddy.runtime import Runtime
from tests.integration.test_rooms_focus import button, minutes_by_user, sweep


async def load(core: Runtime, room_title: str, name: str) -> tuple[Room, User]:
    async with core.db.transaction() as session:
        room = await session.scalar(select(Room).where(Room.title == room_title))
        user = await session.scalar(select(User).where(User.display_name == name))
    assert room is not None and user is not None
    return room, user


async def test_a_non_member_cannot_see_another_rooms_status_or_leaderboard(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ann = make_chat("ann", room="g1")
    eve = make_chat("eve", room="g2")
    started = await ann.send("/focus 25")
    own_room = await eve.say("/room")
    assert "Ann" not in own_room and "no focus session running" in own_room
    room, user = await load(core, "g1", "Eve")
    now = clock.now()
    async with core.db.transaction() as session:
        with pytest.raises(Forbidden):
            await service.room_status(session, room, user, now)
        with pytest.raises(Forbidden):
            await service.leaderboard(session, room, user, "week", now)
    # A button from room g1 pressed in room g2 finds nothing there.
    pressed = await eve.press(button(started, "Join"))
    assert "does not exist in this room" in pressed[0].plain_text()
    assert "In (1): Ann" in (await ann.send("/room"))[0].plain_text()


async def test_leaving_the_room_ends_access_and_keeps_the_minutes_so_far(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ann, bob = make_chat("ann", room="g1"), make_chat("bob", room="g1")
    await bob.say("/room")
    started = await ann.send("/focus 25 0")
    await bob.press(button(started, "Join"))
    clock.advance(timedelta(minutes=12))
    room, bob_user = await load(core, "g1", "Bob")
    async with core.db.transaction() as session:
        assert await service.member_left(
            session, room_id=room.id, user_id=bob_user.id, at=clock.now()
        )
    async with core.db.transaction() as session:
        with pytest.raises(Forbidden):
            await service.room_status(session, room, bob_user, clock.now())
    assert "members (1): Ann" in await ann.say("/room")
    clock.advance(timedelta(minutes=13))
    await sweep(core)
    assert await minutes_by_user(core) == {"Ann": 25, "Bob": 12}
    assert "Bob" not in await ann.say("/leaderboard")


async def test_platform_membership_events_add_members_and_admins(core: Runtime, make_chat) -> None:  # type: ignore[no-untyped-def]
    ann, bob = make_chat("ann", room="g1"), make_chat("bob", room="g1")
    await ann.say("/room")
    await bob.say("/room")
    # In a room where the platform named no admin, its first member configures it.
    assert "Asia/Tokyo" in await ann.say("/room tz Asia/Tokyo")
    assert "admins" in await bob.say("/room tz Europe/Paris")
    room, bob_user = await load(core, "g1", "Bob")
    async with core.db.transaction() as session:
        await service.member_joined(session, room_id=room.id, user_id=bob_user.id, is_admin=True)
    assert "Europe/Paris" in await bob.say("/room tz Europe/Paris")
    assert "admins" in await ann.say("/room voice on")
    assert "counts" in await bob.say("/room voice on")


async def test_focus_refuses_bad_input_and_runs_alone_in_direct_chats(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    ann = make_chat("ann", room="g1")
    assert "1 to 180" in await ann.say("/focus 0")
    assert "1 to 180" in await ann.say("/focus 1000")
    assert "not a number" in await ann.say("/focus abc")
    assert "0 to 60" in await ann.say("/focus 25 90")
    assert "/focus [minutes] [break]" in await ann.say("/focus 1 2 3")
    alone = await make_chat("ann").say("/focus 25")
    assert "group" not in alone.lower() and "Focus: 25 min left" in alone
    assert "group chat" in await make_chat("ann").say("/leaderboard")
    assert "week or" in await ann.say("/leaderboard year")
    assert "no focus session running" in await ann.say("/room")
    await ann.say("/focus 25")
    assert "already running" in await ann.say("/focus 10")


async def test_leaving_a_session_you_are_not_in_says_so(core: Runtime, make_chat) -> None:  # type: ignore[no-untyped-def]
    ann, bob = make_chat("ann", room="g1"), make_chat("bob", room="g1")
    started = await ann.send("/focus 25")
    reply = await bob.press(button(started, "Leave"))
    assert "not in this focus session" in reply[0].plain_text()
    assert "expired" in (await bob.press("rooms.join:abc"))[0].plain_text()


async def test_leaderboard_counts_this_week_or_this_month(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ann, bob = make_chat("ann", room="g1"), make_chat("bob", room="g1")
    await bob.say("/room")
    # Monday 2026-11-02 is in this month but not in this week (today is Wed 25 Nov).
    clock.set(clock.now() - timedelta(days=23))
    await bob.send("/focus 40 0")
    clock.advance(timedelta(minutes=40))
    await sweep(core)
    clock.advance(timedelta(days=23) - timedelta(minutes=40))
    await ann.send("/focus 25 0")
    clock.advance(timedelta(minutes=25))
    await sweep(core)
    week = await ann.say("/leaderboard week")
    assert "Ann: 25 min" in week and "Bob" not in week
    month = await ann.say("/leaderboard month")
    assert month.index("Bob: 40 min") < month.index("Ann: 25 min")


async def test_two_people_starting_at_once_get_one_session(core: Runtime, make_chat) -> None:  # type: ignore[no-untyped-def]
    ann, bob = make_chat("ann", room="g1"), make_chat("bob", room="g1")
    await bob.say("/room")
    replies = await asyncio.gather(ann.say("/focus 25"), bob.say("/focus 30"))
    assert sum("Group focus" in r for r in replies) == 1
    assert sum("already running" in r for r in replies) == 1


async def test_room_status_costs_the_same_few_queries_however_many_members(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def record(conn, cursor, statement, params, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    async def queries_of_room(chat) -> int:  # type: ignore[no-untyped-def]
        statements.clear()
        event.listen(core.db.engine.sync_engine, "before_cursor_execute", record)
        try:
            assert "members" in await chat.say("/room")
        finally:
            event.remove(core.db.engine.sync_engine, "before_cursor_execute", record)
        return len(statements)

    small = [make_chat(f"s{i}", room="small") for i in range(2)]
    big = [make_chat(f"b{i}", room="big") for i in range(25)]
    for chat in small + big:
        await chat.say("/start")
    await small[0].say("/focus 25")
    await big[0].say("/focus 25")
    counts = (await queries_of_room(small[1]), await queries_of_room(big[24]))
    # Dispatch: the event's dedupe with the speaker, the room and their membership (one
    # statement), a savepoint and its release; /room: members, today's minutes, the running
    # session, its participants.
    assert counts == (7, 7)


async def test_the_platforms_word_on_admins_beats_being_first_in_the_room(make_chat) -> None:  # type: ignore[no-untyped-def]
    ann, bob = make_chat("ann", room="g1"), make_chat("bob", room="g1")
    first = await ann.send("/room", sender_is_admin=False)
    assert "members (1): Ann" in first[0].plain_text()
    refused = await ann.send("/room tz Asia/Tokyo", sender_is_admin=False)
    assert refused[0].plain_text() == "Only the room's admins can change its settings."
    allowed = await bob.send("/room tz Asia/Tokyo", sender_is_admin=True)
    assert allowed[0].plain_text() == "This room's time zone is now Asia/Tokyo."
    # An adapter that says nothing leaves the recorded word as it is.
    assert "admins" in await ann.say("/room voice on")


async def test_a_platform_that_must_be_asked_is_asked_only_for_admin_commands(
    make_chat,
) -> None:  # type: ignore[no-untyped-def]
    asked: list[str] = []

    async def ask() -> bool:
        asked.append("asked")
        return False

    ann = make_chat("ann", room="g1")
    await ann.send("/room", ask_sender_is_admin=ask)
    await ann.send("/focus 25", ask_sender_is_admin=ask)
    assert asked == []
    refused = await ann.send("/room voice on", ask_sender_is_admin=ask)
    assert asked == ["asked"]
    assert refused[0].plain_text() == "Only the room's admins can change its settings."
