"""Issue 20 through the real discord.py client against the Discord stand-in, in a DM with
typed slash options: cards and decks fixed with commands and buttons, study time logged,
reminders snoozed and not set twice, undo of a deletion and of a review grade, and when
the schedule was last fitted. Each test checks what the student saw and what was stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bots.discord.adapter import TeddyDiscord
from core.clock import FixedClock
from teddy.runtime import Runtime
from tests.e2e import test_discord_flows as flows
from tests.e2e.test_discord import DM_CHANNEL
from tests.e2e.test_discord_flows import buttons, press, run
from tests.integration.tasks_helpers import run_due
from tests.support import study_store as stored
from tests.support.discord_standin import DiscordStandIn

standin = flows.standin  # the fixtures: the stand-in, and the client with no test commands
bot = flows.bot


def content(answer: dict[str, Any]) -> str:
    return str(answer["data"]["content"])


def last_message_id(standin: DiscordStandIn) -> str:
    """The message the last interaction answer created (what its buttons sit on)."""
    return list(standin.originals.values())[-1]


async def click(standin: DiscordStandIn, answer: dict[str, Any], label: str) -> dict[str, Any]:
    """Press the button labelled `label` on the message of `answer`."""
    message_id = last_message_id(standin)
    return await press(standin, buttons(answer)[label], message_id)


async def deck_with_cards(standin: DiscordStandIn, deck: str, *cards: tuple[str, str]) -> None:
    await run(standin, "deck", {"deck": deck})
    for front, back in cards:
        added = await run(standin, "card", {"front": front, "back": back})
        assert "Added 1 card" in content(added)


# Cards -------------------------------------------------------------------------------------


async def test_the_cards_buttons_edit_delete_and_suspend_a_card(
    core: Runtime,
    bot: TeddyDiscord,
    standin: DiscordStandIn,
) -> None:
    await deck_with_cards(standin, "Bio", ("cell", "unit of life"), ("atp", "energy currency"))
    listed = await run(standin, "cards", {"deck": "Bio"})
    assert content(listed).startswith("**Cards in Bio** (2)\n")
    assert list(buttons(listed)) == ["✏️ 1", "✏️ 2", "🗑 1", "🗑 2", "⏸ 1", "⏸ 2"]
    listed_id = last_message_id(standin)

    hint = await press(standin, buttons(listed)["✏️ 1"], listed_id)
    assert "`/editcard 1 cell | unit of life`" in content(hint)

    suspended = await press(standin, buttons(listed)["⏸ 2"], listed_id)
    assert content(suspended).startswith("Suspended card **2** (atp → energy currency)")
    assert list(buttons(suspended)) == ["▶️ Bring back 2"]
    assert await stored.suspended_notes(core) == [2]
    suspended_id = last_message_id(standin)

    asked = await press(standin, buttons(listed)["🗑 1"], listed_id)
    assert content(asked).startswith("Delete card **1** (cell → unit of life) from **Bio**")
    assert list(buttons(asked)) == ["Delete card 1", "Keep it"]
    deleted = await click(standin, asked, "Delete card 1")
    assert content(deleted).startswith("Deleted card **1** (cell → unit of life) from **Bio**")
    assert await stored.notes(core) == [("Bio", "atp", "energy currency")]

    back = await press(standin, buttons(suspended)["▶️ Bring back 2"], suspended_id)
    assert content(back) == "Card **2** (atp → energy currency) is back in your reviews."
    assert await stored.suspended_notes(core) == []


async def test_editcard_and_delcard_change_the_stored_card(
    core: Runtime,
    bot: TeddyDiscord,
    standin: DiscordStandIn,
) -> None:
    await deck_with_cards(standin, "Bio", ("cell", "unit of life"), ("atp", "energy"))
    edited = await run(
        standin,
        "editcard",
        {"number": 2, "front": "ATP", "back": "the energy currency of the cell"},
    )
    assert content(edited) == "Updated card **2** in **Bio**: ATP → the energy currency of the cell"
    deleted = await run(standin, "delcard", {"number": 1})
    assert content(deleted) == (
        "Deleted card **1** (cell → unit of life) from **Bio**, with its review history."
    )
    assert await stored.notes(core) == [("Bio", "ATP", "the energy currency of the cell")]
    missing = await run(standin, "delcard", {"number": 1})
    assert content(missing) == "There is no card 1 in your decks. /cards lists them."


# Decks -------------------------------------------------------------------------------------


async def test_a_deck_is_renamed_merged_and_deleted_after_its_confirm_button(
    core: Runtime,
    bot: TeddyDiscord,
    standin: DiscordStandIn,
) -> None:
    await deck_with_cards(standin, "Biology", ("cell", "unit of life"))
    await deck_with_cards(standin, "Bio2", ("atp", "energy"), ("cell", "unit of life"))
    renamed = await run(standin, "deck", {"deck": "rename Biology Bio"})
    assert content(renamed) == "Renamed **Biology** to **Bio**."
    assert await stored.deck_names(core) == ["Bio", "Bio2"]

    merged = await run(standin, "deck", {"deck": "merge Bio2 into Bio"})
    assert content(merged).startswith("Merged **Bio2** into **Bio**: 1 card moved")
    assert await stored.deck_names(core) == ["Bio"]
    assert sorted(await stored.notes(core)) == [
        ("Bio", "atp", "energy"),
        ("Bio", "cell", "unit of life"),
    ]

    asked = await run(standin, "deck", {"deck": "del Bio"})
    assert content(asked).startswith("Delete deck **Bio** with its 2 cards")
    assert list(buttons(asked)) == ["Delete Bio (2 cards)", "Keep it"]
    asked_id = last_message_id(standin)
    kept = await press(standin, buttons(asked)["Keep it"], asked_id)
    assert content(kept) == "Nothing was deleted."
    assert await stored.deck_names(core) == ["Bio"]
    done = await press(standin, buttons(asked)["Delete Bio (2 cards)"], asked_id)
    assert content(done) == "Deleted deck **Bio** and its 2 cards."
    assert await stored.deck_names(core) == []
    assert await stored.notes(core) == []


# Study time, reminders ---------------------------------------------------------------------


async def test_log_records_study_time_with_its_subject(
    core: Runtime,
    bot: TeddyDiscord,
    standin: DiscordStandIn,
) -> None:
    logged = await run(standin, "log", {"time": "45m", "subject": "chem"})
    assert content(logged) == "Logged 45 min of #chem. Study time today: 45 min."
    assert list(buttons(logged)) == ["Undo"]
    assert await stored.study_logs(core) == [("manual", "chem", 45)]


async def deliver_reminder(core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn) -> Any:
    await run_due(core)
    await bot.deliverer().deliver_round()
    return standin.named("POST", f"/channels/{DM_CHANNEL}/messages")[-1]


async def test_a_delivered_reminder_is_snoozed_by_its_button_and_by_the_command(
    core: Runtime,
    bot: TeddyDiscord,
    standin: DiscordStandIn,
    clock: FixedClock,
) -> None:
    await run(standin, "settings", {"setting": "quiet", "value": "off"})
    await run(standin, "remind", {"when": "in 20 minutes", "text": "stretch"})
    clock.advance(timedelta(minutes=20))
    reminder = await deliver_reminder(core, bot, standin)
    assert reminder.body["content"] == "⏰ Reminder: stretch"
    labelled = buttons({"data": reminder.body})
    assert list(labelled) == ["💤 10 min", "💤 1 h", "💤 Tomorrow"]

    snoozed = await press(standin, labelled["💤 10 min"], "990000000000000001")
    assert content(snoozed) == "💤 Snoozed. I'll remind you Wed 25 Nov 09:30: stretch"
    assert await stored.reminders(core) == [("stretch", clock.now() + timedelta(minutes=10), None)]

    clock.advance(timedelta(minutes=10))
    again = await deliver_reminder(core, bot, standin)
    assert again.body["content"] == "⏰ Reminder: stretch"
    by_command = await run(standin, "snooze", {"when": "1h"})
    assert content(by_command) == "💤 Snoozed. I'll remind you Wed 25 Nov 10:30: stretch"
    assert await stored.reminders(core) == [("stretch", clock.now() + timedelta(hours=1), None)]


async def test_the_same_remind_twice_answers_with_the_first_and_adds_another_on_request(
    core: Runtime,
    bot: TeddyDiscord,
    standin: DiscordStandIn,
    clock: FixedClock,
) -> None:
    first = await run(standin, "remind", {"when": "in 20 minutes", "text": "stretch"})
    assert content(first) == "I'll remind you Wed 25 Nov 09:20: stretch"
    twice = await run(standin, "remind", {"when": "in 20 minutes", "text": "stretch"})
    assert content(twice) == "You already have this reminder Wed 25 Nov 09:20: stretch"
    assert list(buttons(twice)) == ["Add another anyway"]
    assert len(await stored.reminders(core)) == 1

    another = await click(standin, twice, "Add another anyway")
    assert content(another) == "Added another: I'll remind you Wed 25 Nov 09:20: stretch"
    at = clock.now() + timedelta(minutes=20)
    assert await stored.reminders(core) == [("stretch", at, None), ("stretch", at, None)]


# Undo --------------------------------------------------------------------------------------


async def test_undo_brings_back_a_deleted_task(
    core: Runtime,
    bot: TeddyDiscord,
    standin: DiscordStandIn,
) -> None:
    await run(standin, "task", {"title": "Lab report", "due": "fri 5pm"})
    await run(standin, "task", {"title": "Essay"})
    await run(standin, "del", {"number": 1})
    assert await stored.task_titles(core) == [(2, "Essay")]
    undone = await run(standin, "undo")
    assert content(undone) == "↩ Restored **1**. Lab report."
    assert await stored.task_titles(core) == [(1, "Lab report"), (2, "Essay")]
    assert content(await run(standin, "undo")).startswith("Nothing to undo.")


async def test_undo_takes_back_a_review_grade_and_restores_the_fsrs_state_exactly(
    core: Runtime,
    bot: TeddyDiscord,
    standin: DiscordStandIn,
    clock: FixedClock,
) -> None:
    await deck_with_cards(standin, "Bio", ("cell", "unit of life"))
    question = await run(standin, "review")
    card_id = last_message_id(standin)
    answer = await press(standin, buttons(question)["Show answer"], card_id)
    before = await stored.fsrs_states(core)
    clock.advance(timedelta(seconds=8))
    good = next(label for label in buttons(answer) if label.startswith("Good"))
    graded = await press(standin, buttons(answer)[good], card_id)
    assert graded["type"] == 7 and "Good · next in" in content(graded)
    assert list(buttons(graded)) == ["↩ Undo"]
    assert await stored.review_count(core) == 1
    assert await stored.fsrs_states(core) != before

    undone = await run(standin, "undo")
    assert content(undone).startswith("↩ Took back **Good**; the card is as it was.")
    assert content(undone).endswith("cell")
    assert await stored.fsrs_states(core) == before
    assert await stored.review_count(core) == 0
    assert await stored.grade_undo_count(core) == 0


# The fitted schedule -----------------------------------------------------------------------


async def test_retention_says_when_the_schedule_was_last_fitted(
    core: Runtime,
    bot: TeddyDiscord,
    standin: DiscordStandIn,
    clock: FixedClock,
) -> None:
    before = content(await run(standin, "retention"))
    assert "scheduling parameters: the FSRS defaults." in before
    assert "Not fitted to your reviews yet: that happens once you have 1,000 reviews." in before

    await stored.record_fit(core, 1234, clock.now())
    after = content(await run(standin, "retention"))
    assert "scheduling parameters: your own (fitted to your reviews)." in after
    assert "Schedule last fitted to your reviews on 25 Nov 2026 (1,234 reviews)" in after
