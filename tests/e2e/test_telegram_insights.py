"""/plan through the real python-telegram-bot Application and the Bot API stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from teddy.runtime import Core
from tests.support.telegram_harness import TelegramBot, running_bot
from tests.support.telegram_standin import message_update, user

ALICE = user(111, "Alice")
BOB = user(222, "Bob")


@pytest.fixture
async def bot(core: Core) -> AsyncIterator[TelegramBot]:
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
