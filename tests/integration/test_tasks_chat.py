"""The task commands as a student uses them, in Asia/Tokyo and America/Los_Angeles."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.tasks.models import Task
from teddy.runtime import Runtime
from tests.integration.tasks_helpers import task_count
from tests.support.chat_driver import ChatDriver

# The clock fixture starts at Wed 25 Nov 2026 09:00 UTC: 18:00 in Tokyo, 01:00 in LA.
EXPECTED = {
    "Asia/Tokyo": {
        "stretch": "Wed 25 Nov 21:00",
        "lab_utc": datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
    },
    "America/Los_Angeles": {
        "stretch": "Wed 25 Nov 04:00",
        "lab_utc": datetime(2026, 11, 28, 1, 0, tzinfo=UTC),
    },
}


@pytest.mark.parametrize("zone", sorted(EXPECTED))
async def test_scripted_session_adds_lists_completes_edits_and_deletes(
    core: Runtime, chat: ChatDriver, zone: str
) -> None:
    await chat.say(f"/settings tz {zone}")
    added = [
        await chat.say("/task Lab report fri 5pm #chem !high"),
        await chat.say("/task Call mom tomorrow 9am"),
        await chat.say("/task Stretch in 3 hours"),
        await chat.say("/task Exam 2026-12-03 14:00 #math"),
        await chat.say("/task Read chapter 5 #chem"),
    ]
    assert "due Fri 27 Nov 17:00 — reply /edit 1 to change" in added[0]
    assert "#chem · !high" in added[0]
    assert "due Thu 26 Nov 09:00" in added[1]
    assert f"due {EXPECTED[zone]['stretch']}" in added[2]
    assert "due Thu 03 Dec 14:00" in added[3]
    assert "No due date" in added[4] and "/edit 5" in added[4]

    async with core.db.transaction() as session:
        lab = await session.scalar(select(Task).where(Task.number == 1))
        assert lab is not None and lab.due_at == EXPECTED[zone]["lab_utc"]

    today = await chat.say("/tasks today")
    assert "(1)" in today and "Stretch" in today and "Lab report" not in today
    week = await chat.say("/tasks week")
    assert [line[:4] for line in week.splitlines()[1:]] == ["- 3.", "- 2.", "- 1."]
    assert "Exam" not in week
    chem = await chat.say("/tasks #chem")
    assert "Lab report" in chem and "Read chapter 5" in chem and "Exam" not in chem
    assert "(0)" in await chat.say("/tasks overdue")

    listing = await chat.send("/tasks")
    assert [b.label for b in listing[0].buttons] == ["✓ 3", "✓ 2", "✓ 1", "✓ 4", "✓ 5"]
    assert "Done: 3. Stretch" in await chat.say("/done 3")
    lab_button = next(b for b in listing[0].buttons if b.label == "✓ 1")
    pressed = await chat.press(lab_button.action)
    assert "Done: 1. Lab report" in pressed[0].plain_text()

    done = await chat.say("/tasks done")
    assert "(2)" in done and "Stretch" in done and "Lab report" in done

    edited = await chat.say("/edit 2 sat 10am !low")
    assert "Call mom — due Sat 28 Nov 10:00 — !low" in edited
    assert "Deleted 5. Read chapter 5" in await chat.say("/del 5")

    everything = (await chat.say("/tasks all")).splitlines()
    assert everything[0] == "Your tasks (4)"
    assert [line[:4] for line in everything[1:]] == ["- 2.", "- 4.", "- 3.", "- 1."]
    assert "✓ done" in everything[3]


async def test_done_again_reopens_the_task(chat: ChatDriver) -> None:
    await chat.say("/task Essay fri")
    await chat.say("/done 1")
    assert "Reopened 1. Essay" in await chat.say("/done 1")
    assert "Essay" in await chat.say("/tasks")


async def test_numbers_stay_stable_after_deleting(chat: ChatDriver) -> None:
    for title in ("A", "B", "C"):
        await chat.say(f"/task {title}")
    await chat.say("/del 3")
    assert "Added 4. D" in await chat.say("/task D")
    listing = await chat.say("/tasks")
    assert "1. A" in listing and "2. B" in listing and "4. D" in listing and "3." not in listing


async def test_long_lists_are_paged_with_a_more_button(chat: ChatDriver) -> None:
    for i in range(20):
        await chat.say(f"/task Item {i}")
    first = (await chat.send("/tasks"))[0]
    assert "Showing 1–15 of 20." in first.plain_text()
    more = next(b for b in first.buttons if b.label.startswith("More"))
    second = (await chat.press(more.action))[0].plain_text()
    assert "Item 19" in second and "Item 0" not in second


async def test_a_long_non_ascii_subject_lists_without_a_more_button(chat: ChatDriver) -> None:
    subject = "#" + "化" * 40
    for i in range(16):
        await chat.say(f"/task Item {i} {subject}")
    page = (await chat.send(f"/tasks {subject}"))[0]
    assert "Showing 1–15 of 16." in page.plain_text()
    assert not any(b.label.startswith("More") for b in page.buttons)


BAD_INPUT = [
    ("/task Essay yesterday", "in the past"),
    ("/task Essay due blurgsday", "couldn't read “blurgsday” as a date"),
    ("/task " + "x" * 10_000, "keep it under 200"),
    ("/task", "What's the task?"),
    ("/task fri 5pm", "no title"),
    ("/done ²", "not a task number"),
    ("/task #chem !high", "no title"),
    ("/task Essay !superhigh", "not a priority"),
    ("/done 999", "There is no task 999"),
    ("/done abc", "“abc” is not a task number"),
    ("/done", "Which task?"),
    ("/edit 1", "What should change?"),
    ("/edit 1 due blurgsday", "couldn't read"),
    ("/edit 1 yesterday", "in the past"),
    ("/del -1", "not a task number"),
    ("/tasks someday", "I can list"),
    ("/remind blurgsday call mom", "couldn't tell when"),
    ("/remind yesterday call mom", "in the past"),
    ("/calendar please", "/calendar reset"),
]


async def test_bad_input_gets_a_clear_reply_and_stores_nothing(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/task Essay fri 5pm")
    for text, expected in BAD_INPUT:
        reply = await chat.say(text)
        assert expected in reply, (text, reply)
    assert await task_count(core) == 1
    assert "due Fri 27 Nov 17:00" in await chat.say("/tasks")


async def test_emoji_right_to_left_and_markup_characters_survive(chat: ChatDriver) -> None:
    title = "📚 مراجعة الفصل *bold* _x_ [link](http://e.x)"
    added = await chat.say(f"/task {title} fri 5pm")
    assert title in added
    assert title in await chat.say("/tasks")


async def test_edit_changes_only_what_is_given(chat: ChatDriver, clock: FixedClock) -> None:
    await chat.say("/task Essay fri 5pm #eng !high")
    assert "Essay draft — due Fri 27 Nov 17:00 — #eng · !high" in await chat.say(
        "/edit 1 Essay draft"
    )
    assert "Essay draft — #eng · !high" in await chat.say("/edit 1 due none")
    assert "#bio" in await chat.say("/edit 1 #bio")


async def test_reminder_command_confirms_the_local_time(chat: ChatDriver) -> None:
    await chat.say("/settings tz Asia/Tokyo")
    assert "I'll remind you Wed 25 Nov 18:20: stretch" in await chat.say(
        "/remind in 20 minutes stretch"
    )
    assert "Thu 26 Nov 09:00: call mom" in await chat.say("/remind tomorrow 9am call mom")


async def test_personal_task_replies_in_a_room_are_private(make_chat) -> None:  # type: ignore[no-untyped-def]
    in_room = make_chat("alice", room="study")
    replies = await in_room.send("/task Essay fri")
    assert replies[0].private


async def test_a_task_reads_a_date_inside_the_text_and_says_which_priority_it_took(
    chat: ChatDriver,
) -> None:
    added = await chat.say("/task Prepare presentation for Dec 15 !urgent")
    assert "Added 1. Prepare presentation — !high" in added
    assert "due Tue 15 Dec 17:00" in added
    assert "(I took “!urgent” as !high)" in added
    on_the = await chat.say("/task Submit form on the 10th")
    assert "Submit form" in on_the and "due Thu 10 Dec 17:00" in on_the
