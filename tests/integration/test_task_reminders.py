"""Reminders and digests through the sweeps that `teddy jobs run-due` runs."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, select

from core.clock import FixedClock
from core.outbox.models import OutboxMessage
from core.tasks.models import Task
from core.tasks.reminders import sweep_task_reminders
from teddy.runtime import Runtime
from tests.integration.tasks_helpers import deliverable, run_due
from tests.support.chat_driver import ChatDriver
from tests.support.chat_replies import outbox_texts


async def test_run_due_just_before_the_due_time_sends_one_reminder_per_task(
    core: Runtime,
    make_chat,
    clock: FixedClock,  # type: ignore[no-untyped-def]
) -> None:
    tokyo, la = make_chat("kenji"), make_chat("lucy")
    await tokyo.say("/settings tz Asia/Tokyo")
    await la.say("/settings tz America/Los_Angeles")
    await tokyo.say("/settings quiet off")
    await la.say("/settings quiet off")
    # Both due at the same instant: Thu 26 Nov 10:00 UTC.
    await tokyo.say("/task Lab report tomorrow 7pm")
    await la.say("/task Problem set tomorrow 2am")
    await tokyo.say("/task Later thing fri 5pm")
    clock.set(datetime(2026, 11, 26, 9, 59, tzinfo=UTC))
    await run_due(core)
    await run_due(core)
    texts = await outbox_texts(core, "reminder")
    assert sorted(texts) == [
        "⏰ **Lab report** is due Thu 26 Nov 19:00",
        "⏰ **Problem set** is due Thu 26 Nov 02:00",
    ]
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    await run_due(core)
    await run_due(core)
    assert (
        len(await outbox_texts(core, "reminder")) == 4
    )  # plus one "at due" each, still no duplicates


async def test_reminder_buttons_complete_the_task(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/settings quiet off")
    await chat.say("/task Essay tomorrow 10am")
    clock.set(datetime(2026, 11, 26, 9, 30, tzinfo=UTC))
    await run_due(core)
    async with core.db.transaction() as session:
        message = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.kind == "reminder")
        )
        assert message is not None
        action = message.buttons[0]["action"]
    assert "Done: 1. Essay" in (await chat.press(action))[0].plain_text()
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    await run_due(core)
    assert len(await outbox_texts(core, "reminder")) == 1  # no "at due" reminder for a done task


async def test_reminder_inside_quiet_hours_waits_until_they_end(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/settings tz Asia/Tokyo")
    await chat.say("/settings quiet 22:00-07:00")
    await chat.say("/task Early lab tomorrow 7:30am")  # Thu 07:30 JST = Wed 22:30 UTC
    clock.set(datetime(2026, 11, 25, 21, 31, tzinfo=UTC))  # 06:31 JST, the 1-hour reminder
    await run_due(core)
    assert await deliverable(core, "test", clock.now()) == []
    seven = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)  # 07:00 JST
    assert await deliverable(core, "test", seven - timedelta(seconds=1)) == []
    assert await deliverable(core, "test", seven) == ["⏰ **Early lab** is due Thu 26 Nov 07:30"]


async def test_quiet_hours_past_the_due_time_send_a_single_reminder(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/settings tz Asia/Tokyo")
    await chat.say("/task Dawn run tomorrow 6:30am")  # default quiet hours 22:00-07:00
    for minute in range(0, 100, 1):
        clock.set(datetime(2026, 11, 25, 20, 30, tzinfo=UTC) + timedelta(minutes=minute))
        if minute % 10 == 0 or minute in (59, 60, 61):
            await run_due(core)
    assert await outbox_texts(core, "reminder") == ["⏰ **Dawn run** is due Thu 26 Nov 06:30"]


async def test_dst_change_reminds_at_the_right_local_hour(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 10, 31, 19, 0, tzinfo=UTC))  # Sat 12:00 PDT
    await chat.say("/settings tz America/Los_Angeles")
    added = await chat.say("/task Brunch tomorrow 9am")  # Sun 1 Nov, after clocks go back
    assert "due Sun 01 Nov 09:00" in added
    async with core.db.transaction() as session:
        task = await session.scalar(select(Task))
        assert task is not None and task.due_at == datetime(2026, 11, 1, 17, 0, tzinfo=UTC)
    clock.set(datetime(2026, 11, 1, 15, 59, tzinfo=UTC))
    await run_due(core)
    assert await outbox_texts(core, "reminder") == []
    clock.set(datetime(2026, 11, 1, 16, 0, tzinfo=UTC))  # 08:00 PST
    await run_due(core)
    assert await outbox_texts(core, "reminder") == ["⏰ **Brunch** is due Sun 01 Nov 09:00"]


async def test_spring_forward_keeps_the_wall_clock_time(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    clock.set(datetime(2027, 3, 13, 20, 0, tzinfo=UTC))  # Sat 12:00 PST, DST starts Sunday
    await chat.say("/settings tz America/Los_Angeles")
    assert "due Mon 15 Mar 09:00" in await chat.say("/task Seminar mon 9am")
    async with core.db.transaction() as session:
        task = await session.scalar(select(Task))
        assert task is not None and task.due_at == datetime(2027, 3, 15, 16, 0, tzinfo=UTC)


async def test_edited_due_time_gets_fresh_reminders(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/settings quiet off")
    await chat.say("/task Essay tomorrow 10am")
    clock.set(datetime(2026, 11, 26, 9, 30, tzinfo=UTC))
    await run_due(core)
    await chat.say("/edit 1 tomorrow 10am")  # Fri
    clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    await run_due(core)
    assert await outbox_texts(core, "reminder") == [
        "⏰ **Essay** is due Thu 26 Nov 10:00",
        "⏰ **Essay** is due Fri 27 Nov 10:00",
    ]


async def test_one_off_reminder_is_sent_once(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/settings quiet off")
    await chat.say("/remind in 20 minutes stretch *now*")
    clock.advance(timedelta(minutes=19))
    await run_due(core)
    assert await outbox_texts(core, "reminder") == []
    clock.advance(timedelta(minutes=1))
    await run_due(core)
    await run_due(core)
    assert await outbox_texts(core, "reminder") == ["⏰ Reminder: stretch \\*now\\*"]


async def test_room_task_reminders_go_to_the_room(
    core: Runtime,
    make_chat,
    clock: FixedClock,  # type: ignore[no-untyped-def]
) -> None:
    room = make_chat("alice", room="chem-group")
    await room.say("/roomtask Group poster tomorrow 10am")
    clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    await run_due(core)
    async with core.db.transaction() as session:
        message = await session.scalar(select(OutboxMessage))
        assert message is not None
        assert (message.room_id is not None, message.chat_id) == (True, "room-chem-group")
        assert "Group poster" in message.text


async def test_daily_digest_lists_today_and_overdue_once_a_day(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/settings tz Asia/Tokyo")
    await chat.say("/settings digest 08:00")
    await chat.say("/task Essay tomorrow 10am")
    await chat.say("/task Quiz tomorrow 3pm !high")
    await chat.say("/task Project fri")
    clock.set(datetime(2026, 11, 25, 22, 59, tzinfo=UTC))  # Thu 07:59 JST
    await run_due(core)
    assert await outbox_texts(core, "digest") == []
    clock.set(datetime(2026, 11, 25, 23, 0, tzinfo=UTC))  # 08:00 JST
    await run_due(core)
    clock.advance(timedelta(minutes=30))
    await run_due(core)
    digests = await outbox_texts(core, "digest")
    assert len(digests) == 1
    assert "Essay — Thu 10:00" in digests[0] and "Quiz — Thu 15:00" in digests[0]
    assert "Project" not in digests[0]
    clock.set(datetime(2026, 11, 26, 23, 5, tzinfo=UTC))  # Fri 08:05 JST
    await run_due(core)
    later = await outbox_texts(core, "digest")
    assert len(later) == 2 and "Project" in later[1] and "overdue" in later[1]


async def test_no_digest_on_a_day_with_nothing_due(
    core: Runtime,
    make_chat,
    clock: FixedClock,  # type: ignore[no-untyped-def]
) -> None:
    idle, busy = make_chat("idle"), make_chat("busy")
    for who in (idle, busy):
        await who.say("/settings digest 09:30")
    await idle.say("/task Someday maybe")
    await busy.say("/task Essay today 11pm")
    clock.set(datetime(2026, 11, 25, 9, 30, tzinfo=UTC))
    await run_due(core)
    await run_due(core)
    digests = await outbox_texts(core, "digest")
    assert len(digests) == 1 and "Essay" in digests[0]


async def test_two_workers_sweeping_at_once_send_each_reminder_once(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/settings quiet off")
    for i in range(30):
        await chat.say(f"/task Item {i} tomorrow 10am")
    at = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    counts = await asyncio.gather(
        *(sweep_task_reminders(core.db, at, [60, 0], batch=7) for _ in range(3))
    )
    assert sum(counts) == 30
    assert len(await outbox_texts(core, "reminder")) == 30


async def test_own_reminder_offsets_apply_to_open_tasks(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/settings quiet off")
    assert "1 hour before, at the due time" in await chat.say("/reminders")
    await chat.say("/task Essay fri 10am")  # Fri 27 Nov 10:00 UTC
    assert "1 day before, 30 minutes before" in await chat.say("/reminders 1d 30m")
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    await run_due(core)
    clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))  # the default 1-hour moment
    await run_due(core)
    clock.set(datetime(2026, 11, 27, 9, 30, tzinfo=UTC))
    await run_due(core)
    assert len(await outbox_texts(core, "reminder")) == 2
    assert "reminders off" in await chat.say("/reminders off")
    await chat.say("/task Quiz sat 10am")
    clock.set(datetime(2026, 11, 28, 10, 0, tzinfo=UTC))
    await run_due(core)
    assert len(await outbox_texts(core, "reminder")) == 2
    assert "not a time before the due date" in await chat.say("/reminders soon")
    assert "at most 14 days" in await chat.say("/reminders 30d")


async def test_one_sweep_batch_queues_its_reminders_in_one_insert(
    core: Runtime,
    make_chat,
    clock: FixedClock,  # type: ignore[no-untyped-def]
) -> None:
    awake, sleepy, room = make_chat("awake"), make_chat("sleepy"), make_chat("awake", room="lab")
    await awake.say("/settings quiet off")
    await sleepy.say("/settings tz Asia/Tokyo")  # quiet 22:00-07:00 JST by default
    for i in range(5):
        await awake.say(f"/task Awake {i} today 10pm")  # Wed 22:00 UTC: reminded 21:00
        await sleepy.say(f"/task Sleepy {i} thu 7:30am")  # Wed 22:30 UTC: reminded 06:30 JST
    await room.say("/roomtask Poster today 10pm")
    inserts: list[str] = []

    def count(conn, cursor, statement, params, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("INSERT INTO outbox"):
            inserts.append(statement)

    at = datetime(2026, 11, 25, 21, 31, tzinfo=UTC)  # 06:31 JST
    event.listen(core.db.engine.sync_engine, "before_cursor_execute", count)
    try:
        sent = await sweep_task_reminders(core.db, at, [60, 0])
        again = await sweep_task_reminders(core.db, at, [60, 0])
    finally:
        event.remove(core.db.engine.sync_engine, "before_cursor_execute", count)
    assert (sent, again, len(inserts)) == (11, 0, 1)
    async with core.db.transaction() as session:
        rows = (
            await session.execute(select(OutboxMessage.text, OutboxMessage.deliver_after))
        ).all()
    held = {text: at for text, at in rows if "Sleepy" in text}
    assert len(rows) == 11 and len(held) == 5
    # 06:30 JST falls in the quiet hours: held until 07:00 JST (22:00 UTC); the others at once.
    seven_jst = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
    assert set(held.values()) == {seven_jst}
    assert {when for text, when in rows if "Sleepy" not in text} == {at}


async def test_room_reminders_are_not_held_by_the_members_quiet_hours(
    core: Runtime,
    make_chat,
    clock: FixedClock,  # type: ignore[no-untyped-def]
) -> None:
    # Both in their default quiet hours (22:00-07:00 UTC) when the reminders come due.
    alice, room = make_chat("alice"), make_chat("alice", room="night-lab")
    await make_chat("bob", room="night-lab").say("/room")
    await alice.say("/task Own notes today 11:30pm")
    await room.say("/roomtask Lab write-up today 11:30pm")
    clock.set(datetime(2026, 11, 25, 22, 30, tzinfo=UTC))
    await run_due(core)
    assert await deliverable(core, "test", clock.now()) == ["⏰ Due in 1 hour: **Lab write-up**"]
    clock.set(datetime(2026, 11, 25, 23, 30, tzinfo=UTC))
    await run_due(core)
    assert await deliverable(core, "test", clock.now()) == ["⏰ Due now: **Lab write-up**"]
    seven = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
    assert await deliverable(core, "test", seven) == ["⏰ **Own notes** is due Wed 25 Nov 23:30"]
