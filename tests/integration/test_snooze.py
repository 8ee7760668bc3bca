"""Snoozing reminders (buttons and /snooze) and the same /remind sent twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.clock import FixedClock
from core.outbox.models import OutboxMessage
from core.tasks.models import Reminder, Task
from core.tasks.snooze import tomorrow_same_time
from teddy.runtime import Runtime
from tests.integration.tasks_helpers import run_due
from tests.support.chat_driver import ChatDriver
from tests.support.chat_replies import outbox_texts


async def last_buttons(core: Runtime) -> dict[str, str]:
    async with core.db.transaction() as session:
        message = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
        assert message is not None
        return {b["label"]: b["action"] for b in message.buttons}


async def pressed(chat: ChatDriver, action: str) -> str:
    return "\n".join(r.plain_text() for r in await chat.press(action))


async def reminders(core: Runtime) -> int:
    async with core.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Reminder)) or 0)


async def test_a_snoozed_reminder_fires_once_more_at_the_new_time(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/settings quiet off")
    await chat.say("/remind in 20 minutes stretch")
    clock.advance(timedelta(minutes=20))
    await run_due(core)
    assert await outbox_texts(core, "reminder") == ["⏰ Reminder: stretch"]
    buttons = await last_buttons(core)
    assert list(buttons) == ["💤 10 min", "💤 1 h", "💤 Tomorrow"]

    snoozed = await pressed(chat, buttons["💤 10 min"])
    assert "Snoozed. I'll remind you Wed 25 Nov 09:30: stretch" in snoozed
    await run_due(core)
    assert len(await outbox_texts(core, "reminder")) == 1
    clock.advance(timedelta(minutes=10))
    await run_due(core)
    await run_due(core)
    assert await outbox_texts(core, "reminder") == ["⏰ Reminder: stretch"] * 2
    clock.advance(timedelta(days=1))
    await run_due(core)
    assert len(await outbox_texts(core, "reminder")) == 2


async def test_a_task_reminder_snoozes_for_an_hour_and_is_dropped_once_done(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/settings quiet off")
    await chat.say("/reminders 1h")
    await chat.say("/task Essay tomorrow 10am")
    await chat.say("/task Poster tomorrow 10am")
    clock.set(datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
    await run_due(core)
    async with core.db.transaction() as session:
        messages = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    essay, poster = ({b["label"]: b["action"] for b in m.buttons} for m in messages)
    assert list(essay) == ["✓ Done", "💤 10 min", "💤 1 h", "💤 Tomorrow"]

    assert "remind you Thu 26 Nov 10:00: Essay" in await pressed(chat, essay["💤 1 h"])
    assert "remind you Thu 26 Nov 10:00: Poster" in await pressed(chat, poster["💤 1 h"])
    await chat.say("/done 2")
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
    await run_due(core)
    texts = await outbox_texts(core, "reminder")
    assert texts[2:] == ["⏰ **Essay** is due Thu 26 Nov 10:00"]
    assert "✓ Done" in await last_buttons(core)


async def test_snoozed_into_quiet_hours_it_waits_until_they_end(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/settings quiet 22:00-07:00")
    await chat.say("/remind today 21:30 call home")
    clock.set(datetime(2026, 11, 25, 21, 30, tzinfo=UTC))
    await run_due(core)
    assert "remind you Wed 25 Nov 22:30" in await pressed(
        chat, (await last_buttons(core))["💤 1 h"]
    )
    clock.set(datetime(2026, 11, 25, 22, 30, tzinfo=UTC))
    await run_due(core)
    async with core.db.transaction() as session:
        held = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert len(held) == 2
    assert held[1].deliver_after == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def test_tomorrow_is_the_same_wall_clock_time_across_a_dst_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    before = datetime(2026, 3, 28, 10, 0, tzinfo=UTC)  # 11:00 CET, DST starts that night
    after = tomorrow_same_time(before, berlin)
    assert after.astimezone(berlin).strftime("%d %H:%M") == "29 11:00"
    assert after - before == timedelta(hours=23)


async def test_snooze_command_takes_a_task_number_or_the_last_reminder(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/settings tz Europe/Berlin")
    await chat.say("/settings quiet off")
    assert "/snooze 10m" in await chat.say("/snooze")
    assert "no reminder today" in await chat.say("/snooze 10m")
    await chat.say("/task Essay fri 5pm")
    assert "remind you Thu 26 Nov 10:00: Essay" in await chat.say("/snooze 1 tomorrow")
    assert "There is no task 7" in await chat.say("/snooze 7 1h")
    assert "Snooze until when?" in await chat.say("/snooze 1 bananas")

    await chat.say("/remind in 5 minutes stretch")
    clock.advance(timedelta(minutes=5))
    await run_due(core)
    assert "remind you Wed 25 Nov 10:25: stretch" in await chat.say("/snooze 20 min")


async def test_the_same_remind_twice_offers_the_first_and_a_button_to_add_another(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    first = await chat.say("/remind tomorrow 9am call mom")
    assert "I'll remind you" in first
    clock.advance(timedelta(minutes=1))
    again = await chat.send("/remind tomorrow 9am Call  Mom")
    text = again[0].plain_text()
    assert text.startswith("You already have this reminder Thu 26 Nov 09:00: call mom")
    assert await reminders(core) == 1
    [add] = again[0].buttons
    assert add.label == "Add another anyway"
    assert "Added another: I'll remind you Thu 26 Nov 09:00" in await pressed(chat, add.action)
    assert await reminders(core) == 2
    # A different day is a different reminder.
    assert "I'll remind you" in await chat.say("/remind fri 9am call mom")
    assert await reminders(core) == 3


async def test_nobody_snoozes_or_copies_another_users_reminders(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_chat("alice"), make_chat("bob")
    await alice.say("/settings quiet off")
    await alice.say("/task Essay tomorrow 10am")
    await alice.say("/remind in 20 minutes stretch")
    again = await alice.send("/remind in 20 minutes stretch")
    clock.advance(timedelta(minutes=20))
    await run_due(core)
    async with core.db.transaction() as session:
        reminder_id = await session.scalar(select(Reminder.id))
        task_id = await session.scalar(select(Task.id))
    assert "doesn't exist" in await pressed(bob, f"snooze:r:{reminder_id}:1h")
    assert "doesn't exist" in await pressed(bob, f"snooze:t:{task_id}:1h")
    assert "gone" in await pressed(bob, again[0].buttons[0].action)
    assert "expired" in await pressed(bob, "snooze:x:1:1h")
    assert await reminders(core) == 1
