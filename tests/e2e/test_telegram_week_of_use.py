"""Issue 20 through the real python-telegram-bot against the Bot API stand-in: cards and
decks fixed with commands and buttons, study time logged, reminders snoozed and not set
twice, undo of a deletion and of a review grade, and when the schedule was last fitted.
Each test checks what the student saw and what was stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from core.clock import FixedClock
from teddy.runtime import Runtime
from tests.integration.tasks_helpers import run_due
from tests.support import study_store as stored
from tests.support.telegram_harness import TelegramBot, running_bot
from tests.support.telegram_standin import Call, callback_update, message_update, user

ALICE = user(111, "Alice")
SENDS = ("sendMessage", "sendPhoto", "sendDocument")


@pytest.fixture
async def bot(core: Runtime) -> AsyncIterator[TelegramBot]:
    async with running_bot(core) as running:
        yield running


def shown(bot: TelegramBot) -> list[Call]:
    """Every message the bot sent or edited in a chat, in order."""
    return [c for c in bot.standin.outgoing() if c.method in ("sendMessage", "editMessageText")]


async def say(bot: TelegramBot, text: str) -> Call:
    """Send `text` as Alice; return the last message sent or edited in answer."""
    await bot.process(message_update(ALICE, text))
    return shown(bot)[-1]


def message_id(bot: TelegramBot, call: Call) -> int:
    if call.method == "editMessageText":
        return int(call.params["message_id"])
    sends = [c for c in bot.standin.outgoing() if c.method in SENDS]
    return sends.index(call) + 1  # the stand-in numbers messages from 1


async def press(bot: TelegramBot, call: Call, label: str) -> Call:
    """Press the button whose label starts with `label` on the message `call` showed;
    return the last message sent or edited in answer."""
    data = next(b["callback_data"] for b in buttons(call) if b["text"].startswith(label))
    message = bot.standin.message(111, message_id(bot, call))
    assert message is not None
    seen = len(shown(bot))
    await bot.process(callback_update(ALICE, data, message))
    assert len(shown(bot)) > seen, f"nothing answered the {label!r} button"
    return shown(bot)[-1]


def buttons(call: Call) -> list[dict[str, str]]:
    return [b for row in call.keyboard for b in row]


def labels(call: Call) -> list[str]:
    return [b["text"] for b in buttons(call)]


def text(call: Call) -> str:
    return str(call.params["text"])


async def deck_with_cards(bot: TelegramBot, deck: str, *cards: str) -> None:
    await say(bot, f"/deck {deck}")
    for card in cards:
        assert "Added 1 card" in text(await say(bot, f"/card {card}"))


# Cards -------------------------------------------------------------------------------------


async def test_the_cards_buttons_edit_delete_and_suspend_a_card(
    core: Runtime, bot: TelegramBot
) -> None:
    await deck_with_cards(bot, "Bio", "cell | unit of life", "atp | energy currency")
    listed = await say(bot, "/cards Bio")
    assert text(listed).startswith("<b>Cards in Bio</b> (2)\n")
    assert labels(listed) == ["✏️ 1", "✏️ 2", "🗑 1", "🗑 2", "⏸ 1", "⏸ 2"]

    hint = await press(bot, listed, "✏️ 1")
    assert "<code>/editcard 1 cell | unit of life</code>" in text(hint)

    suspended = await press(bot, listed, "⏸ 2")
    assert text(suspended).startswith("Suspended card <b>2</b> (atp → energy currency)")
    assert labels(suspended) == ["▶️ Bring back 2"]
    assert await stored.suspended_notes(core) == [2]

    asked = await press(bot, listed, "🗑 1")
    assert text(asked).startswith("Delete card <b>1</b> (cell → unit of life) from <b>Bio</b>")
    assert labels(asked) == ["Delete card 1", "Keep it"]
    deleted = await press(bot, asked, "Delete card 1")
    assert text(deleted).startswith("Deleted card <b>1</b> (cell → unit of life) from <b>Bio</b>")
    assert await stored.notes(core) == [("Bio", "atp", "energy currency")]

    back = await press(bot, suspended, "▶️ Bring back 2")
    assert text(back) == "Card <b>2</b> (atp → energy currency) is back in your reviews."
    assert await stored.suspended_notes(core) == []


async def test_editcard_and_delcard_change_the_stored_card(core: Runtime, bot: TelegramBot) -> None:
    await deck_with_cards(bot, "Bio", "cell | unit of life", "atp | energy")
    edited = await say(bot, "/editcard 2 ATP | the energy currency of the cell")
    assert text(edited) == (
        "Updated card <b>2</b> in <b>Bio</b>: ATP → the energy currency of the cell"
    )
    deleted = await say(bot, "/delcard 1")
    assert text(deleted) == (
        "Deleted card <b>1</b> (cell → unit of life) from <b>Bio</b>, with its review history."
    )
    assert await stored.notes(core) == [("Bio", "ATP", "the energy currency of the cell")]
    missing = await say(bot, "/delcard 1")
    assert text(missing) == "There is no card 1 in your decks. /cards lists them."


# Decks -------------------------------------------------------------------------------------


async def test_a_deck_is_renamed_merged_and_deleted_after_its_confirm_button(
    core: Runtime, bot: TelegramBot
) -> None:
    await deck_with_cards(bot, "Biology", "cell | unit of life")
    await deck_with_cards(bot, "Bio2", "atp | energy", "cell | unit of life")
    renamed = await say(bot, "/deck rename Biology Bio")
    assert text(renamed) == "Renamed <b>Biology</b> to <b>Bio</b>."
    assert await stored.deck_names(core) == ["Bio", "Bio2"]

    merged = await say(bot, "/deck merge Bio2 into Bio")
    assert text(merged) == (
        "Merged <b>Bio2</b> into <b>Bio</b>: 1 card moved with their schedules. "
        "1 duplicate already there were dropped."
    )
    assert await stored.deck_names(core) == ["Bio"]
    assert sorted(await stored.notes(core)) == [
        ("Bio", "atp", "energy"),
        ("Bio", "cell", "unit of life"),
    ]

    asked = await say(bot, "/deck del Bio")
    assert labels(asked) == ["Delete Bio (2 cards)", "Keep it"]
    kept = await press(bot, asked, "Keep it")
    assert text(kept) == "Nothing was deleted."
    assert await stored.deck_names(core) == ["Bio"]
    done = await press(bot, asked, "Delete Bio")
    assert text(done) == "Deleted deck <b>Bio</b> and its 2 cards."
    assert await stored.deck_names(core) == []
    assert await stored.notes(core) == []


# Study time, reminders ---------------------------------------------------------------------


async def test_log_records_study_time_with_its_subject(core: Runtime, bot: TelegramBot) -> None:
    logged = await say(bot, "/log 45m #chem")
    assert text(logged) == "Logged 45 min of #chem. Study time today: 45 min."
    assert labels(logged) == ["Undo"]
    assert await stored.study_logs(core) == [("manual", "chem", 45)]
    assert "chem" in text(await say(bot, "/stats"))


async def test_a_delivered_reminder_is_snoozed_with_the_command(
    core: Runtime, bot: TelegramBot, clock: FixedClock
) -> None:
    await say(bot, "/settings quiet off")
    await say(bot, "/remind in 20 minutes stretch")
    clock.advance(timedelta(minutes=20))
    await run_due(core)
    await bot.adapter.deliverer().deliver_round()
    assert text(shown(bot)[-1]) == "⏰ Reminder: stretch"

    snoozed = await say(bot, "/snooze 1h")
    assert text(snoozed) == "💤 Snoozed. I'll remind you Wed 25 Nov 10:20: stretch"
    [(what, at, sent)] = await stored.reminders(core)
    assert (what, at, sent) == ("stretch", clock.now() + timedelta(hours=1), None)


async def test_the_same_remind_twice_answers_with_the_first_and_adds_another_on_request(
    core: Runtime, bot: TelegramBot, clock: FixedClock
) -> None:
    first = await say(bot, "/remind in 20 minutes stretch")
    assert text(first) == "I'll remind you Wed 25 Nov 09:20: stretch"
    twice = await say(bot, "/remind in 20 minutes stretch")
    assert text(twice) == "You already have this reminder Wed 25 Nov 09:20: stretch"
    assert labels(twice) == ["Add another anyway"]
    assert len(await stored.reminders(core)) == 1

    another = await press(bot, twice, "Add another anyway")
    assert text(another) == "Added another: I'll remind you Wed 25 Nov 09:20: stretch"
    at = clock.now() + timedelta(minutes=20)
    assert await stored.reminders(core) == [("stretch", at, None), ("stretch", at, None)]


# Undo --------------------------------------------------------------------------------------


async def test_undo_brings_back_a_deleted_task(core: Runtime, bot: TelegramBot) -> None:
    await say(bot, "/task Lab report fri 5pm")
    await say(bot, "/task Essay")
    await say(bot, "/del 1")
    assert await stored.task_titles(core) == [(2, "Essay")]
    undone = await say(bot, "/undo")
    assert text(undone) == "↩ Restored <b>1</b>. Lab report."
    assert await stored.task_titles(core) == [(1, "Lab report"), (2, "Essay")]
    again = await say(bot, "/undo")
    assert text(again).startswith("Nothing to undo.")


async def test_undo_takes_back_a_review_grade_and_restores_the_fsrs_state_exactly(
    core: Runtime, bot: TelegramBot, clock: FixedClock
) -> None:
    await deck_with_cards(bot, "Bio", "cell | unit of life")
    question = await say(bot, "/review")
    answer = await press(bot, question, "Show answer")
    before = await stored.fsrs_states(core)
    clock.advance(timedelta(seconds=8))
    graded = await press(bot, answer, "Good")
    graded_card = next(c for c in shown(bot) if "Good · next in" in text(c))
    assert labels(graded_card) == ["↩ Undo"]
    assert await stored.review_count(core) == 1
    assert await stored.fsrs_states(core) != before
    assert text(graded).startswith("<b>Session done</b>: 1 card")

    undone = await say(bot, "/undo")
    assert text(undone).startswith("↩ Took back <b>Good</b>; the card is as it was.")
    assert text(undone).endswith("cell")
    assert await stored.fsrs_states(core) == before
    assert await stored.review_count(core) == 0
    assert await stored.grade_undo_count(core) == 0


# The fitted schedule -----------------------------------------------------------------------


async def test_retention_says_when_the_schedule_was_last_fitted(
    core: Runtime, bot: TelegramBot, clock: FixedClock
) -> None:
    before = text(await say(bot, "/retention"))
    assert "scheduling parameters: the FSRS defaults." in before
    assert "Not fitted to your reviews yet: that happens once you have 1,000 reviews." in before

    await stored.record_fit(core, 1234, clock.now())
    after = text(await say(bot, "/retention"))
    assert "scheduling parameters: your own (fitted to your reviews)." in after
    assert "Schedule last fitted to your reviews on 25 Nov 2026 (1,234 reviews)" in after
