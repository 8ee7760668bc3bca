"""Through the real python-telegram-bot against the Bot API stand-in: fixing cards and
decks, /help aliases, snoozing a delivered reminder, and undo."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from core.clock import FixedClock
from teddy.runtime import Runtime
from tests.integration.tasks_helpers import run_due
from tests.support.telegram_harness import TelegramBot, running_bot
from tests.support.telegram_standin import Call, callback_update, message_update, user

ALICE = user(111, "Alice")


@pytest.fixture
async def bot(core: Runtime) -> AsyncIterator[TelegramBot]:
    async with running_bot(core) as running:
        yield running


async def say(bot: TelegramBot, text: str) -> Call:
    await bot.process(message_update(ALICE, text))
    return bot.standin.sent("sendMessage")[-1]


async def press(bot: TelegramBot, sent: Call, label: str) -> Call:
    """Press the button whose label starts with `label` on the last message sent."""
    data = next(
        b["callback_data"] for row in sent.keyboard for b in row if b["text"].startswith(label)
    )
    message = bot.standin.message(111, len(bot.standin.sent("sendMessage")))
    assert message is not None
    await bot.process(callback_update(ALICE, data, message))
    return bot.standin.sent("sendMessage")[-1]


def labels(sent: Call) -> list[str]:
    return [b["text"] for row in sent.keyboard for b in row]


async def test_a_deck_is_deleted_after_a_confirm_showing_its_card_count(bot: TelegramBot) -> None:
    await say(bot, "/deck Biology")
    await say(bot, "/card cell | unit of life")
    asked = await say(bot, "/deck del Biology")
    assert "Delete deck <b>Biology</b> with its 1 card" in asked.params["text"]
    assert labels(asked) == ["Delete Biology (1 card)", "Keep it"]
    done = await press(bot, asked, "Delete Biology")
    assert done.params["text"] == "Deleted deck <b>Biology</b> and its 1 card."
    assert "You have no decks yet" in (await say(bot, "/decks")).params["text"]


async def test_cards_are_listed_with_buttons_and_suspended_from_telegram(
    bot: TelegramBot,
) -> None:
    await say(bot, "/deck Bio")
    await say(bot, "/card cell | unit of life")
    listed = await say(bot, "/cards")
    assert "<b>1</b>. cell → unit of life" in listed.params["text"]
    assert labels(listed) == ["✏️ 1", "🗑 1", "⏸ 1"]
    suspended = await press(bot, listed, "⏸ 1")
    assert "Suspended card <b>1</b>" in suspended.params["text"]
    assert "Nothing is due" in (await say(bot, "/review")).params["text"]
    edited = await say(bot, "/editcard 1 cell | the unit of life")
    assert "cell → the unit of life" in edited.params["text"]


async def test_help_flashcards_answers_with_the_cards_area(bot: TelegramBot) -> None:
    answer = (await say(bot, "/help flashcards")).params["text"]
    assert answer.startswith("<b>Flashcards</b>") and "/editcard" in answer


async def test_a_delivered_reminder_is_snoozed_and_comes_back_once(
    core: Runtime, bot: TelegramBot, clock: FixedClock
) -> None:
    await say(bot, "/settings quiet off")
    await say(bot, "/remind in 20 minutes stretch")
    clock.advance(timedelta(minutes=20))
    await run_due(core)
    await bot.adapter.deliverer().deliver_round()
    reminder = bot.standin.sent("sendMessage")[-1]
    assert reminder.params["text"] == "⏰ Reminder: stretch"
    assert labels(reminder) == ["💤 10 min", "💤 1 h", "💤 Tomorrow"]
    snoozed = await press(bot, reminder, "💤 10 min")
    assert "Snoozed. I'll remind you Wed 25 Nov 09:30: stretch" in snoozed.params["text"]

    clock.advance(timedelta(minutes=10))
    await run_due(core)
    await run_due(core)
    await bot.adapter.deliverer().deliver_round()
    texts = [c.params["text"] for c in bot.standin.sent("sendMessage")]
    assert texts.count("⏰ Reminder: stretch") == 2


async def test_a_deleted_task_comes_back_with_the_undo_button(bot: TelegramBot) -> None:
    await say(bot, "/task Lab report fri 5pm")
    deleted = await say(bot, "/del 1")
    assert labels(deleted) == ["↩ Undo"]
    restored = await press(bot, deleted, "↩ Undo")
    assert restored.params["text"] == "↩ Restored <b>1</b>. Lab report."
    assert "Lab report" in (await say(bot, "/tasks")).params["text"]


async def test_the_new_commands_are_in_telegrams_command_list(bot: TelegramBot) -> None:
    private = {c["command"]: c["description"] for c in bot.standin.commands["default"]}
    assert {"cards", "editcard", "delcard", "snooze", "undo"} <= set(private)
    assert private["undo"].startswith("take back your last /del, /done or review grade")
