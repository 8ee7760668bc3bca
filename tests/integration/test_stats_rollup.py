"""The daily activity rollup (core.analytics.rollup) against a recomputation from the
source tables, after a mix of events through the commands: across a DST change, a change
of time zone, for two users side by side, and through every undo and delete path. An
event counts for its date in the user's time zone; changing the zone moves the history
with it (as /stats showed it before the rollup)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, text

from core.analytics import rollup
from core.analytics import service as analytics
from core.analytics.models import MEASURES, DailyActivity
from core.chat.messages import Reply
from core.clock import FixedClock
from core.documents import service as documents
from core.identity.models import Identity, User
from core.jobs import JobContext, run_job
from core.rooms import study
from core.tasks import service as tasks
from core.tasks import snooze
from core.tutor.grounded import save_draft
from teddy.runtime import Runtime
from tests.integration.test_rooms_study_sessions import setup_voice
from tests.integration.test_undo import button
from tests.support.chat_driver import ChatDriver
from tests.support.migrations import migration

Days = dict[date, dict[str, int]]


def nonzero(days: Days) -> Days:
    return {day: row for day, row in days.items() if any(row.values())}


async def user_of(core: Runtime, name: str, platform: str = "test") -> User:
    async with core.db.transaction() as session:
        user = await session.scalar(
            select(User)
            .join(Identity, Identity.user_id == User.id)
            .where(Identity.platform == platform, Identity.external_id == name)
        )
        assert user is not None
        return user


async def checked(core: Runtime, user_id: int) -> Days:
    """The user's rollup, after asserting it equals a recomputation from the sources."""
    async with core.db.transaction() as session:
        kept = nonzero(await rollup.days_of(session, user_id, date.min))
        assert kept == nonzero(await rollup.recomputed(session, user_id))
    return kept


def measure(days: Days, name: str) -> dict[date, int]:
    return {day: row[name] for day, row in days.items() if row[name]}


async def review(chat: ChatDriver, rating: str) -> list[Reply]:
    shown = await chat.press(button(await chat.send("/review"), "Show answer"))
    return await chat.press(button(shown, rating))


async def test_a_mix_of_events_across_a_dst_change_counts_each_on_its_local_day(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    # Berlin leaves summer time at 03:00 on Sunday 25 October 2026 (UTC+2 -> UTC+1).
    await chat.say("/settings tz Europe/Berlin")
    clock.set(datetime(2026, 10, 24, 21, 30, tzinfo=UTC))  # 23:30 on the 24th (CEST)
    await chat.say("/task Essay")
    await chat.say("/log 20m #chem")
    await chat.say("/deck Bio")
    await chat.say("/card cell | unit of life")
    await chat.say("/card atom | unit of matter")
    await review(chat, "Good")
    clock.set(datetime(2026, 10, 24, 22, 30, tzinfo=UTC))  # 00:30 on the 25th (CEST)
    await chat.say("/done 1")
    await chat.say("/task Poster")
    await review(chat, "Again")
    clock.set(datetime(2026, 10, 25, 22, 30, tzinfo=UTC))  # 23:30 on the 25th (CET)
    await chat.say("/log 30m")
    await chat.say("/remind in 2 hours stretch")
    user = await user_of(core, "alice")

    days = await checked(core, user.id)
    oct24, oct25 = date(2026, 10, 24), date(2026, 10, 25)
    assert measure(days, "study_minutes") == {oct24: 20, oct25: 30}
    assert measure(days, "cards_reviewed") == {oct24: 1, oct25: 1}
    assert measure(days, "cards_kept") == {oct24: 1}
    assert measure(days, "tasks_done") == {oct25: 1}
    assert measure(days, "tasks_added") == {oct24: 1, oct25: 1}
    # Stamped by the database's clock (today), as the rows are.
    assert sum(measure(days, "reminders_set").values()) == 1
    assert sum(measure(days, "decks_made").values()) == 1

    async with core.db.transaction() as session:
        report = await analytics.user_stats(session, user, "week", clock.now())
    assert report.days[-2:] == [oct24, oct25]
    assert report.study_minutes[-2:] == [20, 30]
    assert report.reviews[-2:] == [1, 1] and report.retention == 0.5
    assert report.activity["tasks added"][-2:] == [1, 1]
    assert report.activity["tasks done"][-2:] == [0, 1]
    assert report.streak == 2


async def test_changing_time_zone_moves_the_history_to_the_new_local_days(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 11, 25, 23, 30, tzinfo=UTC))
    await chat.say("/log 25m")
    await chat.say("/task Read")
    user = await user_of(core, "alice")
    utc_days = await checked(core, user.id)
    assert measure(utc_days, "study_minutes") == {date(2026, 11, 25): 25}

    await chat.say("/settings tz Asia/Tokyo")  # 08:30 on the 26th there
    tokyo_days = await checked(core, user.id)
    assert measure(tokyo_days, "study_minutes") == {date(2026, 11, 26): 25}
    assert measure(tokyo_days, "tasks_added") == {date(2026, 11, 26): 1}
    assert "Study time: 25 min" in await chat.say("/stats")
    # The same zone again changes nothing.
    await chat.say("/settings tz Asia/Tokyo")
    assert await checked(core, user.id) == tokyo_days


async def test_each_users_rollup_holds_only_their_own_events(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ana, ben = make_chat("ana"), make_chat("ben")
    await ana.say("/task Ana's task")
    await ana.say("/done 1")
    await ana.say("/log 40m")
    await ben.say("/task Ben's task")
    await ben.say("/settings tz America/Los_Angeles")  # rebuilds Ben's rollup only
    ana_user, ben_user = await user_of(core, "ana"), await user_of(core, "ben")
    ana_days, ben_days = await checked(core, ana_user.id), await checked(core, ben_user.id)
    assert sum(measure(ana_days, "study_minutes").values()) == 40
    assert sum(measure(ana_days, "tasks_added").values()) == 1
    assert measure(ben_days, "study_minutes") == {} and measure(ben_days, "tasks_done") == {}
    assert sum(measure(ben_days, "tasks_added").values()) == 1
    async with core.db.transaction() as session:
        owners = set(await session.scalars(select(DailyActivity.user_id)))
        report = await analytics.user_stats(session, ben_user, "week", clock.now())
    assert owners == {ana_user.id, ben_user.id}
    assert sum(report.study_minutes) == 0 and report.total_activity == 1


async def test_undo_and_delete_paths_take_their_counts_back(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/task Essay")
    await chat.say("/task Poster")
    await chat.say("/done 1")
    assert "open again" in await chat.say("/undo")  # a task un-done
    await chat.say("/done 2")
    deleted = await chat.send("/del 2")  # a done task deleted, then restored
    user = await user_of(core, "alice")
    assert measure(await checked(core, user.id), "tasks_done") == {}
    await chat.press(button(deleted, "↩ Undo"))
    assert sum(measure(await checked(core, user.id), "tasks_done").values()) == 1

    logged = await chat.send("/log 45m")
    await chat.press(button(logged, "Undo"))  # a study log taken back
    await chat.say("/deck Bio")
    await chat.say("/card cell | unit of life")
    graded = await review(chat, "Good")
    await chat.press(button(graded, "↩ Undo"))  # a grade taken back
    days = await checked(core, user.id)
    assert measure(days, "study_minutes") == {} and measure(days, "cards_reviewed") == {}

    await review(chat, "Easy")
    assert sum(measure(await checked(core, user.id), "cards_reviewed").values()) == 1
    asked = await chat.send("/deck del Bio")  # the deck goes with its review log
    await chat.press(button(asked, "Delete Bio"))
    days = await checked(core, user.id)
    assert measure(days, "cards_reviewed") == {} and measure(days, "decks_made") == {}

    async with core.db.transaction() as session:
        now = clock.now()
        task = await tasks.create_task(session, user.id, title="Lab", now=now)
        await tasks.add_reminder(session, user.id, "stretch", now + timedelta(hours=1), now=now)
        await snooze.snooze_task(session, user.id, task.id, now + timedelta(hours=2), now)
        await snooze.snooze_task(session, user.id, task.id, now + timedelta(hours=3), now)
        document, _ = await documents.receive_file(
            session, user=user, room=None, name="notes.txt", data=b"cells", max_bytes=10**6
        )
        await save_draft(session, user, "notes", [{"front": "a", "back": "b"}])
    days = await checked(core, user.id)
    assert sum(measure(days, "reminders_set").values()) == 2  # the snooze replaced
    assert sum(measure(days, "documents_added").values()) == 1
    assert sum(measure(days, "tutor_work").values()) == 1
    async with core.db.transaction() as session:
        await tasks.delete_task(session, user.id, task.id)  # its snooze goes with it
        await documents.delete_own_document(session, user, document.id)
    days = await checked(core, user.id)
    assert sum(measure(days, "reminders_set").values()) == 1
    assert measure(days, "documents_added") == {}


async def test_another_learners_deck_deleted_with_its_owner_recounts_the_learner(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    owner_dm, owner_room = make_chat("olga"), make_chat("olga", room="club")
    learner = make_chat("lena", room="club")
    await learner.say("/start")  # Lena is in the room
    await owner_dm.say("/deck Anatomy")
    await owner_dm.say("/card femur | thigh bone")
    assert "now shared with this room" in await owner_room.say("/roomdeck Anatomy")
    learner_dm = make_chat("lena")
    await review(learner_dm, "Good")
    lena = await user_of(core, "lena")
    assert sum(measure(await checked(core, lena.id), "cards_reviewed").values()) == 1

    olga = await user_of(core, "olga")
    asked = await owner_dm.send("/deleteme")
    assert "deleted" in (await owner_dm.press(asked[0].buttons[0].action))[0].plain_text()
    assert measure(await checked(core, lena.id), "cards_reviewed") == {}
    async with core.db.transaction() as session:
        owners = set(await session.scalars(select(DailyActivity.user_id)))
    assert olga.id not in owners and await learner.say("/stats")


async def test_linking_two_accounts_recounts_the_survivor_in_its_zone(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    phone, laptop = make_chat("bo", platform="telegram"), make_chat("bo", platform="console")
    await phone.say("/settings tz Asia/Tokyo")
    clock.set(datetime(2026, 11, 25, 23, 30, tzinfo=UTC))  # the 26th in Tokyo
    for driver in (phone, laptop):
        await driver.say("/task Lab")
        await driver.say("/log 10m")
        await driver.say("/deck Biology")  # the same deck name: the two fold into one
    code = (await phone.say("/link")).split("code: ")[1].split(" ")[0]
    assert "Linked" in await laptop.say(f"/link {code}")
    survivor = await user_of(core, "bo", platform="telegram")
    days = await checked(core, survivor.id)
    assert measure(days, "study_minutes") == {date(2026, 11, 26): 20}
    assert measure(days, "tasks_added") == {date(2026, 11, 26): 2}
    assert sum(measure(days, "decks_made").values()) == 1
    async with core.db.transaction() as session:
        assert set(await session.scalars(select(DailyActivity.user_id))) == {survivor.id}


async def test_the_migrations_backfill_writes_what_a_rebuild_writes(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ana, ben = make_chat("ana"), make_chat("ben")
    await ben.say("/settings tz America/Los_Angeles")
    for driver in (ana, ben):
        await driver.say("/task Essay")
        await driver.say("/done 1")
        await driver.say("/log 30m")
        await driver.say("/deck Bio")
        await driver.say("/card cell | unit of life")
        await review(driver, "Hard")
        clock.advance(timedelta(hours=13))
        await driver.say("/log 15m")
    ids = [(await user_of(core, name)).id for name in ("ana", "ben")]
    before: dict[int, Any] = {uid: await checked(core, uid) for uid in ids}
    async with core.db.transaction() as session:
        await session.execute(text("DELETE FROM daily_activity"))
        for statement in migration("0100_daily_activity").backfill():
            await session.execute(text(statement))
    after = {uid: await checked(core, uid) for uid in ids}
    assert after == before and all(before.values())
    assert set(MEASURES) == set(next(iter(before[ids[0]].values())))


async def test_voice_group_focus_and_manual_study_count_when_they_end(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    v1, _, dan = await setup_voice(core, make_chat)
    t0 = clock.now()
    async with core.db.transaction() as s:
        await study.voice_joined(s, user_id=dan, room_id=v1, at=t0)
        assert measure(await rollup.days_of(s, dan, date.min), "study_minutes") == {}
        await study.voice_left(s, user_id=dan, room_id=v1, at=t0 + timedelta(minutes=40))
        await study.voice_joined(s, user_id=dan, room_id=v1, at=t0 + timedelta(hours=1))
        await study.voice_seen(s, room_id=v1, user_ids=[dan], at=t0 + timedelta(minutes=80))
        await study.log_manual_session(
            s, user_id=dan, started_at=t0 - timedelta(days=1), ended_at=t0 - timedelta(hours=23)
        )
    clock.advance(timedelta(hours=2))
    await run_job("rooms.sweep_voice", JobContext(core.db, core.services), {})  # ends at 80 min
    room = make_chat("dan", room="v1")
    await room.say("/focus 25")
    clock.advance(timedelta(minutes=26))
    await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})
    days = await checked(core, dan)
    assert measure(days, "study_minutes") == {t0.date() - timedelta(days=1): 60, t0.date(): 85}
