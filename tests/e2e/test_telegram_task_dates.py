"""Through the real python-telegram-bot against the Bot API stand-in: a task's date is
read in the language Telegram reports for the student (day first for German, Japanese
words), and what was guessed is said in the reply."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from teddy.runtime import Runtime
from tests.support.telegram_harness import TelegramBot, running_bot
from tests.support.telegram_standin import message_update, user

# The clock fixture is Wed 25 Nov 2026 09:00 UTC; a new user's zone is UTC.
LENA = user(221, "Lena", language_code="de")
AIKO = user(222, "Aiko", language_code="ja")
SAM = user(223, "Sam", language_code="en")


@pytest.fixture
async def bot(core: Runtime) -> AsyncIterator[TelegramBot]:
    async with running_bot(core) as running:
        yield running


async def say(bot: TelegramBot, who: dict[str, Any], text: str) -> str:
    await bot.process(message_update(who, text))
    return str(bot.standin.sent("sendMessage")[-1].params["text"])


async def test_a_german_student_s_numeric_date_is_day_first(bot: TelegramBot) -> None:
    added = await say(bot, LENA, "/task Essay 03.12.")
    assert "Essay" in added and "due Thu 03 Dec 17:00" in added


async def test_a_japanese_student_s_weekday_and_hour_are_read(bot: TelegramBot) -> None:
    added = await say(bot, AIKO, "/task 化学レポート 金曜 17時")
    assert "化学レポート" in added and "due Fri 27 Nov 17:00" in added
    assert "金曜" not in added


async def test_a_priority_alias_and_an_unread_day_number_are_said(bot: TelegramBot) -> None:
    added = await say(bot, SAM, "/task Prepare presentation for Dec 15 !urgent")
    assert "due Tue 15 Dec 17:00" in added and "(I took “!urgent” as !high)" in added
    unread = await say(bot, SAM, "/task Pay phone bill 28th")
    assert "No due date." in unread and "(I didn't read “28th” as a date)" in unread
