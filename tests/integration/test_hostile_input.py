"""Input an attacker (or a clumsy script) sends: each gets a clear answer, never the
internal error, and nothing is stored half-way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core.chat.messages import Reply
from core.clock import FixedClock
from core.dispatch.dispatcher import INTERNAL_ERROR
from core.flashcards.models import CardState, ReviewLog
from core.tasks import service
from core.tasks.models import Reminder, Task
from teddy.runtime import Runtime
from tests.integration.tasks_helpers import task_count
from tests.support.chat_driver import ChatDriver
from tests.support.chat_replies import button
from tests.support.rows import count


def text_of(replies: list[Reply]) -> str:
    return "\n".join(r.plain_text() for r in replies)


# Far-away dates -------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
@pytest.mark.parametrize(
    "command",
    [
        "/task Essay 9999-12-31",
        "/task Essay due 9999-12-31 23:59",
        "/task Essay in 99999999 days",
        "/task Essay due in 999999999999999999999999 weeks",
    ],
)
async def test_a_due_date_beyond_ten_years_is_refused_clearly(
    core: Runtime, chat: ChatDriver, zone: str, command: str
) -> None:
    await chat.say(f"/settings tz {zone}")
    answer = await chat.say(command)
    assert INTERNAL_ERROR not in answer
    assert "10 years" in answer
    assert await task_count(core) == 0


async def test_a_due_date_nine_years_ahead_is_accepted(core: Runtime, chat: ChatDriver) -> None:
    answer = await chat.say("/task Essay 2035-06-01")
    assert "due Fri 01 Jun 2035 17:00" in answer
    assert await task_count(core) == 1


async def test_editing_a_task_to_a_date_beyond_ten_years_is_refused(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/task Essay fri")
    answer = await chat.say("/edit 1 due 9999-12-31")
    assert "10 years" in answer and INTERNAL_ERROR not in answer
    async with core.db.transaction() as session:
        due = await session.scalar(select(Task.due_at))
    assert due is not None and due.year == 2026


@pytest.mark.parametrize(
    "command",
    [
        "/remind in 99999999 days stretch",
        "/remind in 999999999999 weeks stretch",
        "/remind in " + "9" * 5000 + " minutes stretch",
        "/remind 9999-12-31 stretch",
    ],
)
async def test_a_reminder_beyond_ten_years_is_refused_clearly(
    core: Runtime, chat: ChatDriver, command: str
) -> None:
    answer = await chat.say(command)
    assert INTERNAL_ERROR not in answer
    assert "10 years" in answer
    assert await count(core, Reminder) == 0


async def _store_far_task(core: Runtime, owner: ChatDriver, room: bool) -> None:
    """A task stored before the horizon existed (or by a direct database write)."""
    await owner.say("/roomtask Far away" if room else "/task Far away")
    async with core.db.transaction() as session:
        task = await session.scalar(select(Task))
        assert task is not None
        task.due_at = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)


async def test_a_stored_task_in_year_9999_does_not_break_room_lists_east_of_utc(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    ana, kim = make_chat("ana", room="physics"), make_chat("kim", room="physics")
    await _store_far_task(core, ana, room=True)
    await kim.say("/settings tz Asia/Tokyo")
    answer = await kim.say("/roomtasks")
    assert INTERNAL_ERROR not in answer and "Far away" in answer


async def test_a_stored_task_in_year_9999_does_not_break_the_calendar_feed(
    core: Runtime, chat: ChatDriver
) -> None:
    await _store_far_task(core, chat, room=False)
    shown = await chat.say("/calendar")
    token = next(w for w in shown.split() if w.endswith(".ics")).rsplit("/", 1)[1][:-4]
    async with core.db.transaction() as session:
        feed = await service.calendar_feed(session, token)
    assert feed is not None and "Far away" in feed


# Buttons with forged numbers ------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [
        "tasks.done:99999999999999999999999",
        "tasks.undo:9223372036854775808",
        "tasks.done:١٢",
        "tasks.page:open:99999999999999999999999",
        "fc.show:1:²:5",
        "fc.grade:1:1:3:99999999999999999999999",
        "fc.end:99999999999999999999999",
        "fc.review:²",
        "rooms.join:99999999999999999999999",
        "tutor.retry:²",
    ],
)
async def test_buttons_with_huge_or_non_ascii_numbers_are_answered_clearly(
    chat: ChatDriver, action: str
) -> None:
    answer = text_of(await chat.press(action))
    assert INTERNAL_ERROR not in answer
    assert "expired" in answer or "exist" in answer


@pytest.mark.parametrize("command", ["/done 99999999999999999999999", "/done ²", "/del ١"])
async def test_task_numbers_with_huge_or_non_ascii_digits_are_answered_clearly(
    chat: ChatDriver, command: str
) -> None:
    answer = await chat.say(command)
    assert INTERNAL_ERROR not in answer and "not a task number" in answer


async def test_retention_with_a_non_ascii_digit_is_answered_clearly(chat: ChatDriver) -> None:
    for value in ("/retention new ²", "/retention new 99999999999999999999999"):
        answer = await chat.say(value)
        assert INTERNAL_ERROR not in answer


# Reviews --------------------------------------------------------------------------------


async def _shown_card(chat: ChatDriver) -> list[Reply]:
    await chat.say("/deck Biology")
    await chat.say("/card Mitochondria | powerhouse of the cell")
    front = await chat.send("/review")
    return await chat.press(button(front, "Show answer"))


async def test_grading_a_month_after_showing_the_answer_is_recorded(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    shown = await _shown_card(chat)
    clock.advance(timedelta(days=30))
    answer = text_of(await chat.press(button(shown, "Good")))
    assert INTERNAL_ERROR not in answer and "Good · next in" in answer
    async with core.db.transaction() as session:
        durations = list(await session.scalars(select(ReviewLog.duration_ms)))
    assert len(durations) == 1 and 0 < durations[0] < 2**31


async def test_a_forged_future_timestamp_does_not_grade_a_card_twice(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    shown = await _shown_card(chat)
    good = button(shown, "Good")
    await chat.press(good)
    head, _, _ = good.rpartition(":")
    future_ms = int((clock.now() + timedelta(days=365)).timestamp() * 1000)
    clock.advance(timedelta(minutes=1))
    forged = text_of(await chat.press(f"{head}:{future_ms}"))
    assert INTERNAL_ERROR not in forged
    assert "Good · next in" not in forged
    async with core.db.transaction() as session:
        reps = await session.scalar(select(CardState.reps))
    assert await count(core, ReviewLog) == 1 and reps == 1


async def test_someone_elses_review_reads_like_one_that_does_not_exist(
    make_chat,
) -> None:  # type: ignore[no-untyped-def]
    ana, bob = make_chat("ana"), make_chat("bob")
    shown = await _shown_card(ana)
    _, run_id, card_id, *_ = button(shown, "Good").split(":")
    theirs = text_of(await bob.press(f"fc.show:{run_id}:{card_id}:1"))
    missing = text_of(await bob.press(f"fc.show:{int(run_id) + 1000}:{card_id}:1"))
    assert theirs == missing
    theirs_end = text_of(await bob.press(f"fc.end:{run_id}"))
    missing_end = text_of(await bob.press(f"fc.end:{int(run_id) + 1000}"))
    assert theirs_end == missing_end


# Broken text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["/task Essay \ud800 fri", "/remind in 2 hours \udfff", "/card a \ud800 | b", "hi \ud800"],
)
async def test_text_with_a_lone_surrogate_is_refused_clearly_and_nothing_is_stored(
    core: Runtime, chat: ChatDriver, text: str
) -> None:
    await chat.say("/deck Biology")
    answer = await chat.say(text)
    assert INTERNAL_ERROR not in answer and "character" in answer
    assert await task_count(core) == 0
    assert await count(core, Reminder) == 0
    assert await count(core, CardState) == 0


async def test_a_lone_surrogate_in_a_display_name_does_not_stop_the_person(
    core: Runtime,
) -> None:
    from core.chat.messages import Conversation, Incoming, Sender

    sender = Sender("test", "eve", "Eve \ud83d")
    incoming = Incoming(sender, Conversation("test", "room-x", False, "Room \udc00"), "/room")
    answer = text_of(await core.dispatcher.handle(incoming))
    assert INTERNAL_ERROR not in answer
