"""The stats service reads whatever the capabilities stored, in the user's time zone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from core.analytics import rollup
from core.analytics import service as analytics
from core.identity.models import User
from teddy.runtime import Runtime
from tests.conftest import T0


async def the_user(core: Runtime, external_id: str) -> User:
    async with core.db.transaction() as session:
        user = await session.scalar(
            text("SELECT user_id FROM identities WHERE external_id = :e"), {"e": external_id}
        )
        found = await session.get(User, user)
    assert found is not None
    return found


async def test_week_stats_count_tasks_minutes_reviews_and_streak(core: Runtime, make_chat) -> None:  # type: ignore[no-untyped-def]
    ana = make_chat("ana")
    await ana.say("/task Lab report fri 5pm")
    await ana.say("/task Essay tomorrow 9am")
    await ana.say("/done 1")
    await ana.say("/deck Biology")
    await ana.say("/card cell | unit of life")
    user = await the_user(core, "ana")
    yesterday = T0 - timedelta(days=1)
    async with core.db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO study_sessions (user_id, source, started_at, minutes) VALUES"
                " (:u, 'focus', :t, 25), (:u, 'focus', :t, 50), (:u, 'focus', :y, 30)"
            ),
            {"u": user.id, "t": T0, "y": yesterday},
        )
        card = await session.scalar(text("SELECT id FROM flashcard_cards LIMIT 1"))
        deck = await session.scalar(text("SELECT deck_id FROM flashcard_cards LIMIT 1"))
        for rating in (1, 3, 3, 4):
            await session.execute(
                text(
                    "INSERT INTO flashcard_reviews (user_id, card_id, deck_id, rating,"
                    " reviewed_at, state_before, due_after) VALUES (:u, :c, :d, :r, :t, 2, :t)"
                ),
                {"u": user.id, "c": card, "d": deck, "r": rating, "t": yesterday},
            )
        await rollup.rebuild(session, user.id)  # the rows above came around the services
        report = await analytics.user_stats(session, user, "week", T0)
    assert len(report.days) == 7 and report.days[-1] == T0.date()
    assert report.tasks is not None
    assert (report.tasks.total, report.tasks.done, report.tasks.overdue) == (2, 1, 0)
    assert report.study_minutes[-1] == 75 and report.study_minutes[-2] == 30
    assert report.reviews[-2] == 4 and report.retention == 0.75
    assert report.activity["tasks added"][-1] == 2 and report.activity["tasks done"][-1] == 1
    assert report.activity["cards reviewed"][-2] == 4
    assert report.streak == 2
    assert report.due_forecast[0] == 1  # the new card is due today
    assert "Study time: 1 h 45 min" in analytics.summary_text(report)


async def test_stats_see_only_the_users_own_rows(core: Runtime, make_chat) -> None:  # type: ignore[no-untyped-def]
    await make_chat("ana").say("/task Secret plan tomorrow")
    await make_chat("ben").say("/start")
    ben = await the_user(core, "ben")
    async with core.db.transaction() as session:
        report = await analytics.user_stats(session, ben, "month", T0)
        count = await session.scalar(text("SELECT count(*) FROM identities"))
    assert report.tasks is not None and report.tasks.total == 0
    assert report.total_activity == 0 and count == 2


async def test_tutor_use_is_counted_per_day_for_its_user_only(core: Runtime, make_chat) -> None:  # type: ignore[no-untyped-def]
    await make_chat("ana").say("/start")
    await make_chat("bob").say("/start")
    ana, bob = await the_user(core, "ana"), await the_user(core, "bob")
    async with core.db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO tutor_usage (user_id, day, requests, tokens_in, tokens_out) VALUES"
                " (:a, :today, 3, 1000, 200), (:a, :yesterday, 1, 50, 10), (:b, :today, 9, 9, 9)"
            ),
            {
                "a": ana.id,
                "b": bob.id,
                "today": T0.date(),
                "yesterday": T0.date() - timedelta(days=1),
            },
        )
    async with core.db.transaction() as session:
        report = await analytics.user_stats(session, ana, "week", T0)
    assert report.ai_requests[-2:] == [1, 3]
    assert report.ai_tokens[-2:] == [60, 1200]
    assert sum(report.ai_requests) == 4
    assert "Questions to the tutor: 4 (1,260 tokens)" in analytics.summary_text(report)
