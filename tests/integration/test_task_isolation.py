"""User B can never list, complete, edit or delete user A's tasks, by number or by id;
room tasks are for the room's members only."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from core.errors import Forbidden, NotFound
from core.identity.models import Room, User
from core.tasks import service
from core.tasks.models import Task
from core.tasks.service import TaskChanges
from teddy.runtime import Runtime
from tests.support.chat_driver import ChatDriver

UTC = ZoneInfo("UTC")


async def _ids(core: Runtime) -> tuple[int, int, int]:
    """(alice's user id, bob's user id, alice's task id)"""
    async with core.db.transaction() as session:
        users = {u.display_name: u.id for u in await session.scalars(select(User))}
        task = await session.scalar(select(Task).where(Task.user_id == users["Alice"]))
        assert task is not None
        return users["Alice"], users["Bob"], task.id


async def test_numbers_are_per_user_and_never_reach_another_users_task(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_chat("alice"), make_chat("bob")
    await alice.say("/task Alice secret fri 5pm")
    await alice.say("/task Alice second")
    assert "Added 1. Bob's own" in await bob.say("/task Bob's own")
    assert "Alice" not in await bob.say("/tasks all")
    for command in ("/done 2", "/edit 2 stolen", "/del 2"):
        assert "There is no task 2 in your list" in await bob.say(command)
    assert "Done: 1. Bob's own" in await bob.say("/done 1")
    assert "Updated 1. Bob renamed" in await bob.say("/edit 1 Bob renamed")
    assert "Deleted 1. Bob renamed" in await bob.say("/del 1")
    listing = await alice.say("/tasks all")
    assert "1. Alice secret" in listing and "2. Alice second" in listing and "✓" not in listing


async def test_buttons_with_another_users_task_id_do_nothing(core: Runtime, make_chat) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_chat("alice"), make_chat("bob")
    await alice.say("/task Alice secret fri 5pm")
    await bob.say("/start")
    _, _, task_id = await _ids(core)
    for name in ("tasks.done", "tasks.undo"):
        reply = (await bob.press(f"{name}:{task_id}"))[0].plain_text()
        assert "doesn't exist" in reply
    assert "✓" not in await alice.say("/tasks all")


async def test_service_refuses_another_users_task_by_id(core: Runtime, make_chat) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_chat("alice"), make_chat("bob")
    await alice.say("/task Alice secret fri 5pm")
    await bob.say("/start")
    _, bob_id, task_id = await _ids(core)
    now = core.services.clock.now()
    async with core.db.transaction() as session:
        with pytest.raises(NotFound):
            await service.task_by_id(session, bob_id, task_id)
        with pytest.raises(NotFound):
            await service.complete_task(session, bob_id, task_id, now=now)
        with pytest.raises(NotFound):
            await service.update_task(session, bob_id, task_id, TaskChanges(title="x"), now=now)
        with pytest.raises(NotFound):
            await service.delete_task(session, bob_id, task_id)
        page = await service.list_tasks(session, bob_id, "all", now=now, zone=UTC)
        assert page.total == 0
    async with core.db.transaction() as session:
        task = await session.get(Task, task_id)
        assert task is not None and task.title == "Alice secret" and task.completed_at is None


async def test_room_tasks_are_shared_with_members_and_show_who_completed_them(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_chat("alice", room="study"), make_chat("bob", room="study")
    await alice.say("/roomtask Book the lab fri 5pm #chem")
    assert "Book the lab" in await bob.say("/roomtasks")
    assert "Done by Bob: 1. Book the lab" in await bob.say("/roomdone 1")
    done = await alice.say("/roomtasks done")
    assert "✓ done Wed 25 Nov 09:00 by Bob" in done
    assert "Book the lab" not in await alice.say("/tasks all")  # not in anyone's own list


async def test_outsiders_cannot_touch_a_rooms_tasks(core: Runtime, make_chat) -> None:  # type: ignore[no-untyped-def]
    alice = make_chat("alice", room="study")
    await alice.say("/roomtask Book the lab fri 5pm")
    other_room = make_chat("mallory", room="elsewhere")
    assert "There is no task 1 in this room" in await other_room.say("/roomdone 1")
    assert "Book the lab" not in await other_room.say("/roomtasks all")
    mallory_dm: ChatDriver = make_chat("mallory")
    async with core.db.transaction() as session:
        task = await session.scalar(select(Task))
        room = await session.scalar(select(Room).where(Room.external_id == "room-study"))
        mallory = await session.scalar(select(User).where(User.display_name == "Mallory"))
        assert task is not None and room is not None and mallory is not None
        task_id, room_id, mallory_id = task.id, room.id, mallory.id
    assert "doesn't exist" in (await mallory_dm.press(f"tasks.done:{task_id}"))[0].plain_text()
    now = core.services.clock.now()
    async with core.db.transaction() as session:
        with pytest.raises(Forbidden):
            await service.list_tasks(session, mallory_id, now=now, zone=UTC, room_id=room_id)
        with pytest.raises(Forbidden):
            await service.create_task(session, mallory_id, title="spam", now=now, room_id=room_id)
        with pytest.raises(Forbidden):
            await service.task_by_number(session, mallory_id, 1, room_id=room_id)


async def test_room_commands_refuse_direct_chats(chat: ChatDriver) -> None:
    assert "works in a group chat" in await chat.say("/roomtask Poster fri")


async def test_calendar_feed_holds_only_the_owners_tasks_and_reset_revokes_it(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_chat("alice"), make_chat("bob")
    await alice.say("/task Essay fri 5pm #eng")
    await alice.say("/task No date")
    await bob.say("/task Bob only fri 6pm")
    shown = await alice.say("/calendar")
    url = next(w for w in shown.split() if w.endswith(".ics"))
    assert url.startswith(core.settings.public_base_url + "/calendar/")
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert url in await alice.say("/calendar")  # stable until reset
    async with core.db.transaction() as session:
        feed = await service.calendar_feed(session, token)
    assert feed is not None and feed.startswith("BEGIN:VCALENDAR")
    assert "SUMMARY:Essay" in feed and "DTSTART:20261127T170000Z" in feed
    assert "CATEGORIES:eng" in feed
    assert "Bob only" not in feed and "No date" not in feed
    events = Calendar.from_ical(feed).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Essay"]
    reset = await alice.say("/calendar reset")
    assert url not in reset and "old one no longer works" in reset
    async with core.db.transaction() as session:
        assert await service.calendar_feed(session, token) is None
        assert await service.calendar_feed(session, "not-a-token") is None
        assert await service.calendar_feed(session, "") is None


async def test_completed_then_reopened_task_is_reminded_again(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/task Essay fri 5pm")
    await chat.say("/done 1")
    async with core.db.transaction() as session:
        task = await session.scalar(select(Task))
        assert task is not None and task.next_remind_at is None
    await chat.say("/done 1")
    async with core.db.transaction() as session:
        task = await session.scalar(select(Task))
        assert task is not None and task.due_at is not None
        assert task.next_remind_at == task.due_at - timedelta(hours=1)
