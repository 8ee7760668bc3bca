"""/exam, /exams, /hours, /plan and /forecast through the whole core, as a student would
type them; and each student sees only their own exams, tasks and cards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from core.chat.messages import Attachment, Card, Reply
from core.identity.models import User
from core.insights.models import Exam, StudyHours
from teddy.runtime import Runtime
from tests.conftest import T0
from tests.support.chat_driver import ChatDriver


def buttons(replies: list[Reply]) -> dict[str, str]:
    return {b.label: b.action for r in replies for b in r.buttons}


def cards_of(replies: list[Reply]) -> list[Card]:
    return [p for r in replies for p in r.parts if isinstance(p, Card)]


async def user_id(core: Runtime, external_id: str) -> int:
    async with core.db.transaction() as session:
        found = await session.scalar(
            text("SELECT user_id FROM identities WHERE external_id = :e"), {"e": external_id}
        )
    assert isinstance(found, int)
    return found


async def set_card_states(
    core: Runtime, owner: str, deck: str, *, due: datetime, stability: float, reviewed: datetime
) -> None:
    """Mark every card of a deck as studied, with one memory state (as after /review)."""
    uid = await user_id(core, owner)
    async with core.db.transaction() as session:
        await session.execute(
            text(
                "UPDATE flashcard_states s SET due = :due, stability = :s, difficulty = 5,"
                " last_review = :r, state = 2 FROM flashcard_decks d"
                " WHERE s.deck_id = d.id AND d.name = :deck AND s.user_id = :u"
            ),
            {"due": due, "s": stability, "r": reviewed, "deck": deck, "u": uid},
        )


# /exam and /exams -------------------------------------------------------------------------


async def test_an_exam_is_read_in_the_users_zone_listed_and_deleted_by_number(
    chat: ChatDriver, core: Runtime
) -> None:
    await chat.say("/settings tz Asia/Tokyo")
    added = await chat.say("/exam Chemistry final dec 18 #chem")
    assert "Chemistry final: Fri 18 Dec (in 23 days)" in added
    await chat.say("/exam Physics midterm 2026-12-01 9am")
    listed = await chat.send("/exams")
    text_ = listed[0].plain_text()
    assert text_.index("1. Physics midterm — Tue 01 Dec 09:00 (in 6 days)") < text_.index(
        "2. Chemistry final — Fri 18 Dec (in 23 days) · #chem"
    )
    assert list(buttons(listed)) == ["🗑 1", "🗑 2"]
    async with core.db.transaction() as session:
        physics = await session.scalar(select(Exam).where(Exam.title == "Physics midterm"))
    assert physics is not None
    assert physics.starts_at == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo

    gone = await chat.say("/exam del 1")
    assert "Deleted Physics midterm." in gone and "1. Chemistry final" in gone
    assert "There is no exam 5" in await chat.say("/exam del 5")


async def test_the_delete_button_removes_that_exam_and_shows_the_rest(chat: ChatDriver) -> None:
    await chat.say("/exam Biology jan 12")
    await chat.say("/exam History dec 20")
    listed = await chat.send("/exams")
    after = await chat.press(buttons(listed)["🗑 2"])
    shown = after[0].plain_text()
    assert "Deleted Biology." in shown and "1. History" in shown and "Biology —" not in shown
    again = await chat.press(buttons(listed)["🗑 2"])
    assert "That exam is gone already" in again[0].plain_text()


async def test_bad_exams_are_refused_and_nothing_is_stored(chat: ChatDriver, core: Runtime) -> None:
    assert "When is “Chemistry final”?" in await chat.say("/exam Chemistry final")
    assert "in the past" in await chat.say("/exam Physics yesterday")
    assert "no !priority" in await chat.say("/exam Maths dec 3 !high")
    assert "Which exam is on that day?" in await chat.say("/exam dec 18")
    assert "Add an exam" in await chat.say("/exam")
    assert "takes nothing after it" in await chat.say("/exams please")
    async with core.db.transaction() as session:
        assert list(await session.scalars(select(Exam))) == []


# /hours -----------------------------------------------------------------------------------


async def test_hours_show_the_default_then_what_the_student_set(chat: ChatDriver) -> None:
    assert "Mon–Sun 2h (the default" in await chat.say("/hours")
    saved = await chat.say("/hours 1h weekdays, 4h weekends")
    assert "Study hours saved: Mon–Fri 1h, Sat–Sun 4h (13h a week)" in saved
    assert await chat.say("/hours mon 30m, sun off")
    shown = await chat.say("/hours")
    assert "Mon 30 min, Tue–Fri 1h, Sat 4h, Sun off." in shown and "default" not in shown


async def test_unreadable_hours_change_nothing(chat: ChatDriver, core: Runtime) -> None:
    await chat.say("/hours 3h daily")
    assert "couldn't read “lots”" in await chat.say("/hours lots on mondays")
    assert "Mon–Sun 3h." in await chat.say("/hours")
    async with core.db.transaction() as session:
        [row] = list(await session.scalars(select(StudyHours)))
    assert row.minutes == [180] * 7


# /plan ------------------------------------------------------------------------------------


async def test_plan_lays_out_reviews_tasks_and_exam_study_per_day(
    chat: ChatDriver, core: Runtime
) -> None:
    await chat.say("/hours 1h weekdays, 2h weekends")
    await chat.say("/task Lab report fri 5pm !high")
    await chat.say("/exam Chemistry final mon")
    await chat.say("/deck Chemistry")
    for n in range(3):
        await chat.say(f"/card atom {n} | answer {n}")
    await set_card_states(
        core, "alice", "Chemistry", due=T0 + timedelta(days=1), stability=20, reviewed=T0
    )
    plan = await chat.say("/plan")
    blocks = plan.split("\n\n")
    assert blocks[0] == "Your plan for 7 days (hours: Mon–Fri 1h, Sat–Sun 2h)"
    assert blocks[1].startswith("Today · ") and "Task 1: Lab report (due Fri 27 Nov)" in blocks[1]
    assert blocks[1].startswith("Today · 1h of 1h")
    assert "- Study for Chemistry final (5 days to go) — 15 min" in blocks[1]
    assert "- ⚠ doesn't fit: Study for Chemistry final (5 days to go) — 30 min" in blocks[1]
    assert "Review Chemistry: 3 cards due — 1 min" in blocks[2]
    assert blocks[6].startswith("Mon 30 Nov · 1h free") and "🎓 Exam: Chemistry final" in blocks[6]
    assert "doesn't fit" in plan  # 45-minute study blocks and 90 minutes of lab in 1h days
    assert "of work doesn't fit your hours. Add time with /hours" in blocks[-1]


async def test_plan_with_nothing_to_do_says_how_to_start_and_bad_days_are_refused(
    chat: ChatDriver,
) -> None:
    assert "Nothing to plan yet" in await chat.say("/plan")
    assert "is not a number of days" in await chat.say("/plan 45")
    assert "is not a number of days" in await chat.say("/plan soon")
    await chat.say("/task Essay tomorrow")
    three = await chat.say("/plan 3 days")
    assert three.startswith("Your plan for 3 days") and three.count("\n\n") == 3


async def test_cards_are_planned_on_their_local_due_day_across_a_dst_change(
    make_chat, core: Runtime, clock
) -> None:  # type: ignore[no-untyped-def]
    clock.set(datetime(2026, 10, 23, 8, 0, tzinfo=UTC))  # Fri 10:00 in Berlin
    bea = make_chat("bea")
    await bea.say("/settings tz Europe/Berlin")
    await bea.say("/deck Latin")
    await bea.say("/card amo | I love")
    # 23:30 on Sunday 25 Oct in Berlin (CET after the change); Monday with Friday's offset.
    due = datetime(2026, 10, 25, 22, 30, tzinfo=UTC)
    await set_card_states(core, "bea", "Latin", due=due, stability=5, reviewed=due - timedelta(5))
    blocks = (await bea.say("/plan 4")).split("\n\n")
    assert blocks[3].startswith("Sun 25 Oct") and "Review Latin: 1 card due" in blocks[3]
    assert "Review Latin" not in blocks[4]


async def upload(core: Runtime, chat: ChatDriver, name: str, data: bytes) -> None:
    async def fetch() -> bytes:
        return data

    await chat.send("", attachments=(Attachment(name, len(data), "text/markdown", fetch),))
    assert await core.services.jobs.drain(60)  # type: ignore[attr-defined]


async def test_exam_study_blocks_suggest_only_my_own_matching_documents(
    make_chat, core: Runtime
) -> None:  # type: ignore[no-untyped-def]
    ana, ben = make_chat("ana"), make_chat("ben")
    await upload(core, ben, "chemistry-secrets.md", b"# Chemistry\n\nBen's notes on ions.\n")
    await upload(core, ana, "history.md", b"# History\n\nThe Congress of Vienna.\n")
    await upload(core, ana, "chemistry-notes.md", b"# Chemistry\n\nAtoms and ions.\n")
    await ana.say("/exam Chemistry final fri")
    plan = await ana.say("/plan 3")
    assert "Study for Chemistry final (2 days to go): re-read chemistry-notes.md (/doc 2)" in plan
    assert "history.md" not in plan and "secrets" not in plan


# /forecast --------------------------------------------------------------------------------


async def test_forecast_gives_retention_per_deck_cards_at_risk_and_a_chart(
    chat: ChatDriver, core: Runtime
) -> None:
    assert "No flashcards yet" in await chat.say("/forecast")
    await chat.say("/exam Chemistry final dec 10")
    await chat.say("/deck Chemistry")
    await chat.say("/card atom | smallest unit")
    await chat.say("/card ion | charged atom")
    await chat.say("/deck Art")
    await chat.say("/card Monet | impressionist")
    await set_card_states(core, "alice", "Chemistry", due=T0, stability=4, reviewed=T0)
    replies = await chat.send("/forecast")
    shown = replies[0].plain_text()
    assert "Predicted retention if you stop reviewing now (desired 90%)" in shown
    assert "Chemistry: today 100%, in 7 days 86%, in 30 days 72% · 2 studied" in shown
    assert "at risk by Chemistry final (Thu 10 Dec): 2 cards below 90%" in shown
    assert "Art: today –, in 7 days –, in 30 days – · 0 studied, 1 never studied" in shown
    [card] = cards_of(replies)
    assert card.image is not None and card.image.startswith(b"\x89PNG")
    assert dict(card.fields)["cards at risk before an exam"] == "2"
    assert "takes nothing after it" in await chat.say("/forecast all")


# Isolation --------------------------------------------------------------------------------


async def test_another_students_exams_tasks_and_cards_never_reach_my_plan_or_forecast(
    make_chat, core: Runtime
) -> None:  # type: ignore[no-untyped-def]
    ana, ben = make_chat("ana"), make_chat("ben")
    await ben.say("/exam Secret thesis defence dec 4")
    await ben.say("/task Ben's private essay tomorrow")
    await ben.say("/deck Ben deck")
    await ben.say("/card secret | card")
    await set_card_states(core, "ben", "Ben deck", due=T0, stability=3, reviewed=T0)
    await ana.say("/task Ana's lab fri")
    await ana.say("/deck Ana deck")
    await ana.say("/card mine | card")

    plan = await ana.say("/plan 14")
    forecast = await ana.say("/forecast")
    exams = await ana.send("/exams")
    for shown in (plan, forecast, exams[0].plain_text()):
        assert "Ben" not in shown and "Secret" not in shown and "secret" not in shown
    assert "Ana's lab" in plan and "Ana deck" in forecast
    assert "No upcoming exams" in exams[0].plain_text()

    ben_exams = await ben.send("/exams")
    delete_bens = buttons(ben_exams)["🗑 1"]
    refused = await ana.press(delete_bens)
    assert "That exam is gone already" in refused[0].plain_text()
    assert "Secret thesis defence" in await ben.say("/exams")
    assert "You have no upcoming exams" in await ana.say("/exam del 1")


async def test_hours_are_per_student(make_chat, core: Runtime) -> None:  # type: ignore[no-untyped-def]
    await make_chat("ana").say("/hours 5h daily")
    assert "Mon–Sun 2h (the default" in await make_chat("ben").say("/hours")
    async with core.db.transaction() as session:
        owners = list(await session.scalars(select(StudyHours.user_id)))
        ana = await session.scalar(select(User.id).where(User.display_name == "Ana"))
    assert owners == [ana]


async def test_in_a_room_the_plan_exams_and_forecast_are_shown_to_the_asker_only(
    make_chat,
) -> None:  # type: ignore[no-untyped-def]
    in_room = make_chat("ana", room="Study group")
    await in_room.say("/task Ana's essay tomorrow")
    for line in ("/exam Chemistry dec 20", "/exams", "/hours", "/plan", "/forecast"):
        replies = await in_room.send(line)
        assert replies and all(r.private for r in replies), line
    assert "Ana's essay" in "".join(r.plain_text() for r in await in_room.send("/plan"))
