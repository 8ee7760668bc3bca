"""/stats read as a person: study time from every source (alone, in a group, logged), per
subject, a streak of study days in the user's zone, one vocabulary for chat, web and REST."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import text

from core.analytics import rollup
from core.analytics import service as analytics
from core.analytics.vocabulary import OKABE_ITO, SERIES
from core.chat.messages import Card
from core.clock import FixedClock
from core.jobs import JobContext, run_job
from teddy.runtime import Runtime
from tests.conftest import T0
from tests.integration.test_analytics import the_user
from tests.integration.test_web import app, browser, new_api_token, sign_up
from tests.support.chat_driver import ChatDriver

__all__ = ["app"]  # the web fixture, shared with test_web


async def sweep(core: Runtime) -> None:
    await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})


async def stats_text(chat: ChatDriver, period: str = "week") -> str:
    return await chat.say(f"/stats {period}")


async def test_adding_tasks_alone_never_makes_a_streak(chat: ChatDriver, clock: FixedClock) -> None:
    await chat.say("/task Read chapter 3 tomorrow")
    clock.advance(timedelta(days=1))
    await chat.say("/task Buy a calculator")
    said = await stats_text(chat)
    assert "Streak: 0 days" in said
    assert "a streak day is a day with card reviews, /focus or /log time" in said


async def test_streak_counts_days_with_reviews_focus_or_logged_time_over_several_days(
    core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/settings tz Asia/Tokyo")  # T0 is 18:00 on 25 Nov in Tokyo
    await chat.say("/log 30m #chem")
    assert "Streak: 1 day\n" in await stats_text(chat) + "\n"
    clock.advance(timedelta(days=1))
    await chat.send("/focus 25 0")  # studying alone counts
    clock.advance(timedelta(minutes=25))
    await sweep(core)
    assert "Streak: 2 days" in await stats_text(chat)
    clock.advance(timedelta(days=1))
    await chat.say("/task Plan the week")  # a day with a task but no study
    assert "Streak: 2 days" in await stats_text(chat)  # still alive until the day ends
    clock.advance(timedelta(days=1))
    assert "Streak: 0 days" in await stats_text(chat)


async def test_streak_days_follow_the_users_time_zone(chat: ChatDriver, clock: FixedClock) -> None:
    await chat.say("/settings tz America/Los_Angeles")
    clock.set(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))  # 23:00 on 25 Nov in Los Angeles
    await chat.say("/log 20m")
    clock.set(datetime(2026, 11, 26, 7, 50, tzinfo=UTC))  # 23:50, the same local day
    await chat.say("/log 5m")
    assert "Streak: 1 day" in await stats_text(chat)
    clock.set(datetime(2026, 11, 26, 8, 10, tzinfo=UTC))  # 00:10 on 26 Nov: a new day
    await chat.say("/log 20m")
    assert "Streak: 2 days" in await stats_text(chat)


async def test_group_focus_counts_for_the_streak_and_study_time_with_its_subject(
    core: Runtime, make_chat, clock: FixedClock
) -> None:  # type: ignore[no-untyped-def]
    ann = make_chat("ann", room="g1")
    await ann.say("/focus 25 5 #bio")
    clock.advance(timedelta(minutes=30))
    await sweep(core)
    alone = make_chat("ann")
    await alone.say("/log 1h30 #chem")
    await alone.say("/log 15m")
    said = await stats_text(alone)
    assert "Streak: 1 day" in said
    assert "Study time: 2 h 10 min (#chem 1 h 30 min, #bio 25 min, no subject 15 min)" in said


async def test_another_users_logged_time_never_shows_in_my_stats(make_chat) -> None:  # type: ignore[no-untyped-def]
    ana, ben = make_chat("ana"), make_chat("ben")
    await ben.say("/log 2h #secret-subject")
    await ben.send("/focus 25")
    await ana.say("/log 10m")
    said = await stats_text(ana)
    assert "Study time: 10 min" in said and "secret" not in said
    assert "Streak: 1 day" in said


async def test_labels_read_as_words_with_plurals_and_things_done_matches_the_chart(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/task Lab report fri 5pm")
    await chat.say("/deck Biology")  # made at the database's own time: outside this week
    await chat.say("/card cell | unit of life")
    user = await the_user(core, "alice")
    async with core.db.transaction() as session:
        card, deck = (await session.execute(text("SELECT id, deck_id FROM flashcard_cards"))).one()
        for rating in (1, 3):
            await session.execute(
                text(
                    "INSERT INTO flashcard_reviews (user_id, card_id, deck_id, rating,"
                    " reviewed_at, state_before, due_after) VALUES (:u, :c, :d, :r, :t, 2, :t)"
                ),
                {"u": user.id, "c": card, "d": deck, "r": rating, "t": T0},
            )
        await rollup.rebuild(session, user.id)  # the rows above came around the services
        report = await analytics.user_stats(session, user, "week", T0)
    replies = await chat.send("/stats")
    said = replies[0].plain_text()
    assert "Things done: 3: 2 cards reviewed, 1 task added\n" in said
    assert "Cards reviewed: 2, 50% remembered" in said
    assert "Streak: 1 day" in said  # the reviews
    assert "flashcard" not in said.lower() and " new" not in said
    # The chart stacks exactly what "things done" adds up.
    assert report.total_activity == 3 == sum(sum(v) for v in report.activity.values())
    assert set(report.activity) == {"cards reviewed", "tasks added"}
    [card_part] = [p for p in replies[0].parts if isinstance(p, Card)]
    assert card_part.image is not None and card_part.image.startswith(b"\x89PNG")
    assert ("Streak", "1 day") in card_part.fields


def test_every_series_has_its_own_okabe_ito_colour() -> None:
    colours = [s.colour for s in SERIES]
    assert len(set(colours)) == len(colours)
    assert set(colours) <= set(OKABE_ITO.values())


async def test_web_dashboard_and_rest_show_the_chats_figures(core: Runtime, app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "ana@example.org")
        async with core.db.transaction() as session:
            user_id = await session.scalar(text("SELECT id FROM users"))
            await session.execute(
                text(
                    "INSERT INTO study_sessions (user_id, source, subject, started_at,"
                    " ended_at, minutes) VALUES (:u, 'manual', 'chem', :t, :t, 90)"
                ),
                {"u": user_id, "t": T0 - timedelta(hours=1)},
            )
            await rollup.rebuild(session, user_id)
        token = await new_api_token(client)
        rest = (
            await client.get("/api/v1/stats", headers={"Authorization": f"Bearer {token}"})
        ).json()
        page = html.unescape((await client.get("/dashboard")).text)
    figures = {f["key"]: f for f in rest["figures"]}
    assert figures["streak"]["text"] == "1 day"
    assert figures["study_time"]["text"] == "1 h 30 min (#chem 1 h 30 min)"
    assert rest["study_by_subject"] == [{"subject": "chem", "minutes": 90}]
    assert rest["colours"]["study minutes"] == OKABE_ITO["black"]
    for figure in rest["figures"]:
        assert f">{figure['text']}<" in page and f">{figure['label']}<" in page


async def test_help_stats_says_what_counts_for_the_streak(chat: ChatDriver) -> None:
    said = await chat.say("/help stats")
    assert "/stats [week|month|all]" in said
    assert "the streak counts days with reviews, focus or /log" in said
