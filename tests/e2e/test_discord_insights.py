"""Issue 24 through the real discord.py client and the gateway stand-in: /exam, /exams,
/hours, /plan, /goal, /badges, /forecast as slash commands, the badge announcement and the
weekly report through the outbox. Each test checks what the student saw, and that another
student's work never shows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bots.discord.adapter import TeddyDiscord
from core.clock import FixedClock
from core.jobs import JobContext, run_job
from teddy.runtime import Runtime
from tests.e2e import test_discord as base
from tests.e2e import test_discord_flows as flows
from tests.e2e.test_discord import DM_CHANNEL, callbacks, slash
from tests.e2e.test_discord_flows import BOB, run
from tests.support.discord_standin import DiscordStandIn, member

standin = base.standin  # the same fixtures
bot = flows.bot

EPHEMERAL = 64
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def as_bob(standin: DiscordStandIn, name: str, options: dict[str, str | int]) -> Any:
    """Bob's slash command in the guild's text channel; its answer."""
    seen = len(callbacks(standin))
    await standin.dispatch("INTERACTION_CREATE", slash(name, options, who=member(BOB, "bob")))
    await standin.wait_for("POST", "/callback", seen + 1)
    return callbacks(standin)[seen]


def content(answer: dict[str, Any]) -> str:
    return str(answer["data"]["content"])


async def delivered_dm(bot: TeddyDiscord, standin: DiscordStandIn) -> list[str]:
    """What the outbox delivered to Alice's DM channel."""
    await bot.deliverer().deliver_round()
    return [c.body["content"] for c in standin.named("POST", f"/channels/{DM_CHANNEL}/messages")]


async def test_exams_hours_and_the_plan_show_only_my_own_work(
    bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    secret = await as_bob(standin, "exam", {"exam": "Bob secret viva dec 2"})
    assert secret["data"]["flags"] == EPHEMERAL  # his exams are his, even in a channel
    assert content(secret).startswith("📅 Bob secret viva: Wed 02 Dec (in 7 days).")
    hours = await run(standin, "hours", {"hours": "2h weekdays, 4h weekends"})
    assert content(hours) == (
        "Study hours saved: Mon–Fri 2h, Sat–Sun 4h (18h a week). /plan fits your work into them."
    )
    await run(standin, "task", {"title": "Lab report", "due": "fri 5pm"})
    exam = await run(standin, "exam", {"exam": "Chemistry final dec 1"})
    assert content(exam).startswith("📅 Chemistry final: Tue 01 Dec (in 6 days).")
    listed = await run(standin, "exams")
    assert content(listed).startswith(
        "**Your exams**\n**1**. Chemistry final — Tue 01 Dec (in 6 days)\n"
    )
    assert "Bob" not in content(listed)
    [[delete]] = [row["components"] for row in listed["data"]["components"]]
    assert delete["label"] == "🗑 1"

    plan = content(await run(standin, "plan", {"days": 7}))
    assert plan.startswith("**Your plan for 7 days** (hours: Mon–Fri 2h, Sat–Sun 4h)")
    assert "**Today** · 30 min of 2h\n\\- Task 1: Lab report (due Fri 27 Nov) — 30 min" in plan
    assert "**Tue 01 Dec** · 2h free\n🎓 Exam: Chemistry final" in plan
    assert plan.count("\n\n**") == 7 and "viva" not in plan


async def test_a_goal_met_earns_a_badge_announced_once_in_my_dm_not_bobs(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    goal = content(await run(standin, "goal", {"goal": "1h study"}))
    assert goal.startswith("🎯 Goal set: 1h study time a week.")
    await run(standin, "log", {"time": "45m", "subject": "chem"})
    await as_bob(standin, "log", {"time": "3h"})  # Bob's study is not Alice's goal
    progress = content(await run(standin, "goal"))
    assert progress.startswith(
        "**Your goals for the week of Mon 23 Nov**\n\\- Study time: 45 min of 1h ▓▓▓▓▓▓▓▓░░ 75%\n"
    )
    await run(standin, "log", {"time": "20m"})
    jc = JobContext(core.db, core.services)
    await run_job("insights.sweep_badges", jc, {})
    await run_job("insights.sweep_badges", jc, {})  # nothing new: nothing sent twice
    assert await delivered_dm(bot, standin) == [
        "🏅 New badge: 🎯 weekly goal met: study time. /badges lists them all."
    ]
    mine = content(await run(standin, "badges"))
    assert mine == "**Your badges (1)**\n\\- 🎯 study time goal, week of 2026-11-23"
    bobs = await as_bob(standin, "badges", {})
    assert bobs["data"]["flags"] == EPHEMERAL
    assert content(bobs).startswith("No badges yet: study a few days in a row")


async def test_forecast_sends_the_retention_chart_of_my_decks_only(
    bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    await run(standin, "deck", {"deck": "Bio"})
    await run(standin, "card", {"front": "Mitochondria", "back": "powerhouse"})
    question = await run(standin, "review")
    message_id = list(standin.originals.values())[-1]
    shown = await flows.press(standin, flows.buttons(question)["Show answer"], message_id)
    grades = flows.buttons(shown)
    good = next(label for label in grades if label.startswith("Good"))
    await flows.press(standin, grades[good], message_id)

    forecast = await run(standin, "forecast")
    assert content(forecast).startswith(
        "**Predicted retention** if you stop reviewing now (desired 90%):\n"
        "\\- **Bio**: today 100%, in 7 days 81%, in 30 days 67% · 1 studied\n"
    )
    [embed] = forecast["data"]["embeds"]
    assert embed["title"] == "Retention forecast"
    assert embed["image"]["url"] == "attachment://forecast.png"
    [chart] = forecast["files"]
    assert chart["name"] == "forecast.png" and chart["data"].startswith(b"\x89PNG")
    empty = await as_bob(standin, "forecast", {})  # Bob has no decks of his own
    assert content(empty) == "No flashcards yet: start a deck with /deck <name> and /card."
    assert empty["data"]["flags"] == EPHEMERAL and "files" not in empty


async def test_the_weekly_report_reaches_my_dm_on_monday_with_my_week_only(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn, clock: FixedClock
) -> None:
    await run(standin, "log", {"time": "1h", "subject": "chem"})
    await as_bob(standin, "log", {"time": "2h", "subject": "art"})
    await run(standin, "task", {"title": "Essay", "due": "fri"})
    clock.set(MONDAY_9)
    jc = JobContext(core.db, core.services)
    await run_job("insights.sweep_weekly_reports", jc, {})
    await run_job("insights.sweep_weekly_reports", jc, {})  # once a week
    assert await delivered_dm(bot, standin) == [
        "**Your week, Mon 23 Nov – Sun 29 Nov**\n"
        "\\- Studied 1 h: #chem 1 h\n"
        "\\- Tasks: 0 done, 1 slipped past their due date\n"
        "\\- Next week: 0 tasks due, 0 cards to review. /plan lays it out day by day."
    ]
