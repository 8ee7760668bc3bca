"""/goal, /badges and the badge sweep through the whole core: progress counts what the
student (or, for a room's goal, its members) did this week, nobody else's; a badge is
announced once, never inside quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, text

from core.clock import FixedClock
from core.identity.models import User
from core.insights import badges
from core.insights.models import Badge, Goal
from core.outbox.models import OutboxMessage
from teddy.runtime import Runtime
from tests.conftest import T0
from tests.integration.test_insights_chat import user_id
from tests.support.chat_driver import ChatDriver


async def add_reviews(core: Runtime, owner: str, at: list[datetime], rating: int = 3) -> None:
    """Review logs of the owner's first card, as /review writes them."""
    uid = await user_id(core, owner)
    async with core.db.transaction() as session:
        for moment in at:
            await session.execute(
                text(
                    "INSERT INTO flashcard_reviews (user_id, card_id, deck_id, rating,"
                    " reviewed_at, state_before, due_after)"
                    " SELECT s.user_id, s.card_id, s.deck_id, :rating, :at, 2, :at"
                    " FROM flashcard_states s WHERE s.user_id = :u ORDER BY s.card_id LIMIT 1"
                ),
                {"u": uid, "at": moment, "rating": rating},
            )


async def badge_messages(core: Runtime) -> list[OutboxMessage]:
    async with core.db.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "badge").order_by(OutboxMessage.id)
        )
        return list(rows)


# /goal -----------------------------------------------------------------------------------


async def test_a_goal_shows_this_weeks_progress_and_stats_repeats_it(
    chat: ChatDriver, core: Runtime, clock: FixedClock
) -> None:
    assert "No weekly goals yet" in await chat.say("/goal")
    set_ = await chat.say("/goal 2h study")
    assert "🎯 Goal set: 2h study time a week." in set_
    assert "Study time: 0 min of 2h ░░░░░░░░░░ 0%" in set_
    await chat.say("/goal 3 tasks")
    await chat.say("/log 1h30")
    for n in (1, 2, 3):
        await chat.say(f"/task Chore {n}")
        await chat.say(f"/done {n}")
    shown = await chat.say("/goal")
    assert "Your goals for the week of Mon 23 Nov" in shown
    assert "Study time: 1h30 of 2h ▓▓▓▓▓▓▓▓░░ 75%" in shown
    assert "Tasks done: 3 of 3 ▓▓▓▓▓▓▓▓▓▓ 100% ✅" in shown
    stats = await chat.say("/stats")
    assert "Weekly goals" in stats and "Study time: 1h30 of 2h" in stats

    clock.set(T0 + timedelta(days=5))  # the next Monday: a new week starts from nothing
    assert "Study time: 0 min of 2h" in await chat.say("/goal")


async def test_a_goal_is_changed_and_removed_and_bad_goals_store_nothing(
    chat: ChatDriver, core: Runtime
) -> None:
    await chat.say("/goal 100 reviews")
    assert "Cards reviewed: 0 of 150" in await chat.say("/goal 150 reviews")
    assert "can't read" in await chat.say("/goal lots of reviews")
    assert "at most 20,000" in await chat.say("/goal 99999 reviews")
    assert "Removed the cards reviewed goal." in await chat.say("/goal off reviews")
    assert "There is no tasks done goal" in await chat.say("/goal off tasks")
    async with core.db.transaction() as session:
        assert list(await session.scalars(select(Goal))) == []


async def test_the_week_is_the_students_own_across_zones(
    chat: ChatDriver, core: Runtime, clock: FixedClock
) -> None:
    await chat.say("/settings tz Asia/Tokyo")
    await chat.say("/goal 1h study")
    clock.set(datetime(2026, 11, 29, 14, 0, tzinfo=UTC))  # Sunday 23:00 in Tokyo
    await chat.say("/log 30m")
    assert "Study time: 30 min of 1h" in await chat.say("/goal")
    clock.set(datetime(2026, 11, 29, 15, 30, tzinfo=UTC))  # Monday 00:30 in Tokyo
    shown = await chat.say("/goal")
    assert "week of Mon 30 Nov" in shown and "Study time: 0 min of 1h" in shown


async def test_a_room_goal_counts_every_member_and_stays_in_its_room(
    make_chat, core: Runtime
) -> None:  # type: ignore[no-untyped-def]
    ann_room, ben_room = make_chat("ann", "club"), make_chat("ben", "club")
    ann, ben, cid = make_chat("ann"), make_chat("ben"), make_chat("cid")
    await ben_room.say("/goal")  # ben joins the room by speaking in it
    assert "This room's goals" in await ann_room.say("/goal 2h study")
    await ann.say("/log 45m")
    await ben.say("/log 30m")
    await cid.say("/log 3h")  # not a member: never counted
    shown = await ben_room.say("/goal")
    assert "Study time: 1h15 of 2h" in shown and "Everyone's study" in shown
    # The room's goal is not anyone's own, nor another room's.
    assert "No weekly goals yet" in await ann.say("/goal")
    assert "No weekly goals yet" in await make_chat("ann", "other").say("/goal")


async def test_a_students_goal_and_progress_are_theirs_alone(make_chat) -> None:  # type: ignore[no-untyped-def]
    ann, ben = make_chat("ann"), make_chat("ben")
    await ann.say("/goal 1h study")
    await ben.say("/log 50m")
    await ben.say("/task Ben's chore")
    await ben.say("/done 1")
    assert "Study time: 0 min of 1h" in await ann.say("/goal")
    assert "No weekly goals yet" in await ben.say("/goal")
    assert "Removed" not in await ben.say("/goal off study")


# Badges -----------------------------------------------------------------------------------


async def test_a_streak_badge_is_announced_once(chat: ChatDriver, core: Runtime) -> None:
    await chat.say("/deck Latin")
    await chat.say("/card amo | I love")
    await add_reviews(core, "alice", [T0 - timedelta(days=n) for n in range(3)])
    assert await badges.sweep(core.db, T0) == 1
    [message] = await badge_messages(core)
    assert "🔥 3-day streak" in message.text and message.deliver_after == T0
    assert await badges.sweep(core.db, T0 + timedelta(minutes=15)) == 0
    assert "🔥 3-day streak" in await chat.say("/badges")


async def test_a_badge_earned_late_at_night_waits_for_the_end_of_quiet_hours(
    chat: ChatDriver, core: Runtime
) -> None:
    await chat.say("/goal 30m study")
    late = T0.replace(hour=23)  # alice's quiet hours: 22:00-07:00 UTC (the default)
    async with core.db.transaction() as session:
        alice = await session.get(User, await user_id(core, "alice"))
        assert alice is not None and alice.quiet_start == time(22, 0)
    core.services.clock.set(late)  # type: ignore[attr-defined]
    await chat.say("/log 40m")
    assert await badges.sweep(core.db, late) == 1
    [message] = await badge_messages(core)
    assert "weekly goal met: study time" in message.text
    assert message.deliver_after == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


async def test_badges_belong_to_the_student_who_earned_them(make_chat, core: Runtime) -> None:  # type: ignore[no-untyped-def]
    ann, ben = make_chat("ann"), make_chat("ben")
    await ann.say("/deck Latin")
    await ann.say("/card amo | I love")
    await ben.say("/help")
    await add_reviews(core, "ann", [T0 - timedelta(days=n) for n in range(7)])
    await badges.sweep(core.db, T0)
    assert "No badges yet" in await ben.say("/badges")
    async with core.db.transaction() as session:
        owners = set(await session.scalars(select(Badge.user_id)))
    assert owners == {await user_id(core, "ann")}
    assert "7-day streak" in await ann.say("/badges")


# Patterns in /stats ------------------------------------------------------------------------


async def test_stats_notes_worse_late_night_reviews_only_when_the_numbers_show_it(
    make_chat,  # type: ignore[no-untyped-def]
    core: Runtime,
) -> None:
    ann, ben = make_chat("ann"), make_chat("ben")
    for chat in (ann, ben):
        await chat.say("/deck Latin")
        await chat.say("/card amo | I love")
    late = T0.replace(hour=23, minute=30) - timedelta(days=2)  # 23:30 in ann's zone (UTC)
    day = T0 - timedelta(days=2)  # 09:00
    await add_reviews(core, "ann", [late] * 28)
    await add_reviews(core, "ann", [late] * 12, rating=1)
    await add_reviews(core, "ann", [day] * 180)
    await add_reviews(core, "ann", [day] * 20, rating=1)
    said = await ann.say("/stats")
    assert (
        "you remember less in reviews late at night (23:00–05:00): 70% of 40 vs 90% of 200" in said
    )
    assert "late at night" not in await ben.say("/stats")  # ann's reviews are not ben's
    await ann.say("/settings tz Asia/Tokyo")  # 23:30 UTC is 08:30 in Tokyo: no late reviews
    assert "late at night" not in await ann.say("/stats")
