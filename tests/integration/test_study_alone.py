"""Studying alone: solo /focus in a direct chat and /log, counted in study time."""

from datetime import timedelta

from sqlalchemy import select

from core.chat.markup import to_plain
from core.clock import FixedClock
from core.jobs import JobContext, run_job
from core.outbox.models import OutboxMessage
from core.rooms.models import StudySession
from teddy.runtime import Runtime
from tests.integration.test_accounts import link_code_in
from tests.support.chat_driver import ChatDriver
from tests.support.chat_replies import button


async def sweep(core: Runtime) -> None:
    await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})


async def study_rows(core: Runtime) -> list[tuple[str, str | None, int]]:
    async with core.db.transaction() as session:
        rows = await session.execute(
            select(StudySession.source, StudySession.subject, StudySession.minutes).order_by(
                StudySession.id
            )
        )
        return [(source, subject, minutes) for source, subject, minutes in rows.all()]


async def outbox_texts(core: Runtime) -> list[tuple[str, str | None]]:
    async with core.db.transaction() as session:
        rows = await session.execute(
            select(OutboxMessage.text, OutboxMessage.live_id).order_by(OutboxMessage.id)
        )
        return [(to_plain(text), live) for text, live in rows.all()]


async def test_solo_focus_in_a_direct_chat_runs_its_phases_and_logs_the_minutes(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    started = await chat.send("/focus 25 5 #chem")
    text = started[0].plain_text()
    assert started[0].live_id is not None
    assert "25 min focus, 5 min break · #chem" in text and "Focus: 25 min left" in text
    assert [b.label for b in started[0].buttons] == ["Pause", "Stop"]

    clock.advance(timedelta(minutes=25))
    await sweep(core)
    [(phase_text, live_id)] = await outbox_texts(core)
    assert live_id == started[0].live_id
    assert "Break: 5 min left" in phase_text
    assert await study_rows(core) == [("focus", "chem", 25)]

    clock.advance(timedelta(minutes=5))
    await sweep(core)
    finished, live_id = (await outbox_texts(core))[-1]
    assert "Focus session finished" in finished and "25 min of study logged" in finished
    assert await study_rows(core) == [("focus", "chem", 25)]


async def test_pause_stops_the_clock_and_resume_moves_the_phase_end(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    started = await chat.send("/focus 20 0")
    clock.advance(timedelta(minutes=5))
    paused = await chat.press(button(started, "Pause"))
    assert "Paused in focus: 15 min left" in paused[0].plain_text()
    assert [b.label for b in paused[0].buttons] == ["Resume", "Stop"]
    assert paused[0].live_id == started[0].live_id

    clock.advance(timedelta(minutes=30))  # past the planned end: a paused timer stands still
    await sweep(core)
    assert await outbox_texts(core) == []
    resumed = await chat.press(button(paused, "Resume"))
    assert "Focus: 15 min left" in resumed[0].plain_text()

    clock.advance(timedelta(minutes=10))
    stopped = await chat.press(button(resumed, "Stop"))
    assert "Focus session stopped" in stopped[0].plain_text()
    assert "15 min of study logged" in stopped[0].plain_text()
    assert stopped[0].buttons == []
    assert await study_rows(core) == [("focus", None, 15)]


async def test_a_second_solo_focus_is_refused_until_the_first_is_stopped(
    chat: ChatDriver,
) -> None:
    await chat.send("/focus 25")
    again = await chat.say("/focus 10")
    assert "already have a focus session running" in again
    stopped = await chat.say("/focus stop")
    assert "Focus session stopped" in stopped
    assert "Focus: 10 min left" in await chat.say("/focus 10")


async def test_someone_elses_buttons_do_not_touch_my_session(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ann, bob = make_chat("ann"), make_chat("bob")
    started = await ann.send("/focus 25")
    for label in ("Pause", "Stop"):
        replies = await bob.press(button(started, label))
        assert "not one of yours" in replies[0].plain_text()
    clock.advance(timedelta(minutes=25))
    await sweep(core)
    assert await study_rows(core) == [("focus", None, 25)]


async def test_a_session_paused_too_long_ends_with_the_time_before_the_pause(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    started = await chat.send("/focus 25 5")
    clock.advance(timedelta(minutes=12))
    await chat.press(button(started, "Pause"))
    clock.advance(timedelta(hours=3))
    await sweep(core)
    finished, _ = (await outbox_texts(core))[-1]
    assert "Focus session stopped" in finished and "12 min of study logged" in finished
    assert await study_rows(core) == [("focus", None, 12)]
    assert "Focus: 25 min left" in await chat.say("/focus")


async def test_log_accepts_the_usual_ways_of_writing_a_duration(chat: ChatDriver) -> None:
    for typed in ("45m", "1h30", "90m", "1.5h", "1h 15m", "20"):
        assert "Logged" in await chat.say(f"/log {typed} #math")
    assert [m for _, _, m in await study_rows(chat.core)] == [45, 90, 90, 90, 75, 20]


async def test_log_explains_bad_or_absurd_input_and_writes_nothing(chat: ChatDriver) -> None:
    assert "/log <time>" in await chat.say("/log")
    assert "can't read “soon”" in await chat.say("/log soon")
    assert "no time at all" in await chat.say("/log 0m")
    assert "more than a day of study can hold" in await chat.say("/log 17h")
    assert "1h30 or 1.5h, not both" in await chat.say("/log 1.5h30")
    assert "One #subject at a time" in await chat.say("/log 45m #a #b")
    assert "Logged 10 h" in await chat.say("/log 10h")
    refused = await chat.say("/log 7h")
    assert "more than 16 h in one day" in refused
    assert [m for _, _, m in await study_rows(chat.core)] == [600]


async def test_undo_removes_the_logged_time(chat: ChatDriver, clock: FixedClock) -> None:
    logged = await chat.send("/log 45m #bio")
    assert "Logged 45 min of #bio" in logged[0].plain_text()
    undone = await chat.press(button(logged, "Undo"))
    assert "Undone: 45 min" in undone[0].plain_text()
    assert await study_rows(chat.core) == []
    again = await chat.send("/log 30m")
    clock.advance(timedelta(hours=1))
    late = await chat.press(button(again, "Undo"))
    assert "too old to undo" in late[0].plain_text()
    assert await study_rows(chat.core) == [("manual", None, 30)]


async def test_linking_two_accounts_that_each_run_a_solo_focus_keeps_one_and_logs_both(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    phone, laptop = make_chat("phone"), make_chat("laptop", platform="other")
    await phone.send("/focus 25")
    await laptop.send("/focus 50")
    clock.advance(timedelta(minutes=10))
    await sweep(core)  # as every 15 s: the countdowns show 15 and 40 min left
    code = link_code_in(await phone.say("/link"))
    assert "Linked" in await laptop.say(f"/link {code}")
    clock.advance(timedelta(minutes=50))
    await sweep(core)
    # The code's maker (phone) keeps its session; the laptop's ends at its last countdown.
    assert sorted(m for source, _, m in await study_rows(core) if source == "focus") == [11, 25]
    assert "Focus: 25 min left" in await phone.say("/focus")
