"""/plan through the real python-telegram-bot Application and the Bot API stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from core.clock import FixedClock
from core.jobs import JobContext, run_job
from teddy.runtime import Runtime
from tests.support.telegram_harness import TelegramBot, running_bot
from tests.support.telegram_standin import message_update, user

ALICE = user(111, "Alice")
BOB = user(222, "Bob")


@pytest.fixture
async def bot(core: Runtime) -> AsyncIterator[TelegramBot]:
    async with running_bot(core) as running:
        yield running


async def test_plan_is_sent_as_one_message_with_a_block_per_day_and_only_my_work(
    bot: TelegramBot,
) -> None:
    await bot.process(message_update(BOB, "/task Bob's secret essay tomorrow"))
    await bot.process(message_update(ALICE, "/hours 2h weekdays, 4h weekends"))
    await bot.process(message_update(ALICE, "/task Lab report fri 5pm"))
    await bot.process(message_update(ALICE, "/exam Chemistry final dec 1"))
    before = len(bot.standin.sent("sendMessage"))
    await bot.process(message_update(ALICE, "/plan 7"))
    [reply] = bot.standin.sent("sendMessage")[before:]
    shown = reply.params["text"]
    assert reply.chat_id == "111"
    assert "<b>Your plan for 7 days</b> (hours: Mon–Fri 2h, Sat–Sun 4h)" in shown
    assert "<b>Today</b> · " in shown and "Task 1: Lab report (due Fri 27 Nov)" in shown
    assert "<b>Tue 01 Dec</b>" in shown and "🎓 Exam: Chemistry final" in shown
    assert shown.count("\n\n<b>") == 7  # the heading's block, then one per day
    assert "Bob" not in shown


def texts(bot: TelegramBot, chat_id: int) -> list[str]:
    return [
        str(c.params.get("text") or c.params.get("caption") or "")
        for c in bot.standin.outgoing()
        if c.chat_id == str(chat_id)
    ]


async def say(bot: TelegramBot, who: dict[str, Any], text: str) -> str:
    """Send `text`; the last thing shown in that student's chat."""
    await bot.process(message_update(who, text))
    return texts(bot, who["id"])[-1]


async def test_exams_and_hours_are_kept_per_student_and_bad_input_is_explained(
    bot: TelegramBot,
) -> None:
    await say(bot, BOB, "/exam Bob secret viva dec 2")
    added = await say(bot, ALICE, "/exam Chemistry final dec 1")
    assert added == (
        "📅 Chemistry final: Tue 01 Dec (in 6 days). /plan now prepares you for it; "
        "/exams lists your exams."
    )
    listed = await say(bot, ALICE, "/exams")
    assert listed.startswith("<b>Your exams</b>\n<b>1</b>. Chemistry final — Tue 01 Dec")
    assert "Bob" not in listed
    [exams] = [c for c in bot.standin.sent("sendMessage") if "Your exams" in c.params["text"]]
    assert [b["text"] for row in exams.keyboard for b in row] == ["🗑 1"]

    hours = await say(bot, ALICE, "/hours 1h30 weekdays, sun off")
    assert hours == (
        "Study hours saved: Mon–Fri 1h30, Sat 2h, Sun off (9h30 a week). "
        "/plan fits your work into them."
    )
    assert await say(bot, ALICE, "/hours 20h mon") == "At most 16h a day, please: “20h”."
    assert "Mon–Fri 1h30" in await say(bot, ALICE, "/hours")
    assert "Mon–Fri 1h30" not in await say(bot, BOB, "/hours")


async def test_a_goal_met_is_announced_once_and_listed_under_badges_for_me_only(
    core: Runtime, bot: TelegramBot
) -> None:
    goal = await say(bot, ALICE, "/goal 1h study")
    assert goal.startswith("🎯 Goal set: 1h study time a week.\n\n")
    assert "• Study time: 0 min of 1h ░░░░░░░░░░ 0%" in goal
    await say(bot, ALICE, "/log 70m #chem")
    await say(bot, BOB, "/log 3h #art")  # no goal: no badge for Bob
    jc = JobContext(core.db, core.services)
    await run_job("insights.sweep_badges", jc, {})
    await run_job("insights.sweep_badges", jc, {})
    await bot.adapter.deliverer().deliver_round()
    announced = "🏅 New badge: 🎯 weekly goal met: study time. /badges lists them all."
    assert texts(bot, 111).count(announced) == 1
    assert not any("New badge" in t for t in texts(bot, 222))
    assert await say(bot, ALICE, "/badges") == (
        "<b>Your badges (1)</b>\n• 🎯 study time goal, week of 2026-11-23"
    )
    assert (await say(bot, BOB, "/badges")).startswith("No badges yet")


async def test_forecast_sends_the_chart_of_my_own_decks(bot: TelegramBot) -> None:
    await say(bot, ALICE, "/deck Bio")
    await say(bot, ALICE, "/card Mitochondria | powerhouse")
    before = len(bot.standin.outgoing())
    await bot.process(message_update(ALICE, "/forecast"))
    *words, chart = bot.standin.outgoing()[before:]
    assert "<b>Predicted retention</b>" in words[0].params["text"]
    assert "<b>Bio</b>" in words[0].params["text"]
    assert chart.method == "sendPhoto" and chart.chat_id == "111"
    assert chart.params["caption"].startswith("<b>Retention forecast</b>\ndecks: 1")
    no_decks = await say(bot, BOB, "/forecast")
    assert no_decks == "No flashcards yet: start a deck with /deck &lt;name&gt; and /card."


async def test_the_weekly_report_comes_on_monday_to_each_student_with_their_own_week(
    core: Runtime, bot: TelegramBot, clock: FixedClock
) -> None:
    await say(bot, ALICE, "/log 70m #chem")
    await say(bot, ALICE, "/exam Chemistry final dec 1")
    await say(bot, BOB, "/log 3h #art")
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    jc = JobContext(core.db, core.services)
    await run_job("insights.sweep_weekly_reports", jc, {})
    await run_job("insights.sweep_weekly_reports", jc, {})  # once a week
    await bot.adapter.deliverer().deliver_round()
    mine = [t for t in texts(bot, 111) if t.startswith("<b>Your week")]
    assert mine == [
        "<b>Your week, Mon 23 Nov – Sun 29 Nov</b>\n• Studied 1 h 10 min: #chem 1 h 10 min\n"
        "• Tasks: 0 done\n• Next week: 0 tasks due, 0 cards to review, 🎓 Chemistry final "
        "(Tue 01 Dec). /plan lays it out day by day."
    ]
    [bobs] = [t for t in texts(bot, 222) if t.startswith("<b>Your week")]
    assert "#art 3 h" in bobs and "chem" not in bobs.lower()
