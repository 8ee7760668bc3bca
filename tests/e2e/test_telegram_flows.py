"""Whole Telegram flows through the real capabilities: a group focus session kept live by
the sweep and the outbox, and a Markdown document read with progress and a summary."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from core.clock import FixedClock
from core.documents.embeddings import embedder_for
from core.jobs import JobContext, run_job
from teddy.runtime import Runtime
from tests.support.telegram_harness import TelegramBot, running_bot, wait_for
from tests.support.telegram_standin import callback_update, document_update, message_update, user

ALICE = user(111, "Alice")
BOB = user(222, "Bob")
GROUP = -100123


@pytest.fixture
async def bot(core: Runtime) -> AsyncIterator[TelegramBot]:
    async with running_bot(core) as running:
        yield running


async def deliver_until(bot: TelegramBot, done: int) -> None:
    """Run the outbox deliverer (paced per chat) until `done` chat calls have been made."""
    stop = asyncio.Event()
    task = asyncio.create_task(bot.adapter.deliverer().run(stop))
    try:
        await wait_for(lambda: len(bot.standin.outgoing()) >= done, timeout=20)
    finally:
        stop.set()
        await task


async def test_a_group_focus_session_is_joined_and_edited_live_by_the_sweep(
    core: Runtime, bot: TelegramBot, clock: FixedClock
) -> None:
    await bot.process(message_update(ALICE, "/focus 25", chat_id=GROUP))
    [started] = bot.standin.sent("sendMessage")
    assert started.chat_id == str(GROUP) and "25 min" in started.params["text"]
    buttons = {b["text"]: b["callback_data"] for row in started.keyboard for b in row}
    assert list(buttons) == ["Join", "Leave", "Stop"]

    message = bot.standin.message(GROUP, 1)
    assert message is not None
    await bot.process(callback_update(BOB, buttons["Join"], message))
    [joined] = bot.standin.sent("editMessageText")
    assert (joined.chat_id, joined.params["message_id"]) == (str(GROUP), "1")
    assert "In (2): Alice, Bob" in joined.params["text"]
    assert len(bot.standin.sent("answerCallbackQuery")) == 1

    clock.advance(timedelta(minutes=25))
    await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})
    await bot.adapter.deliverer().deliver_round()
    swept = bot.standin.sent("editMessageText")[-1]
    assert (swept.chat_id, swept.params["message_id"]) == (str(GROUP), "1")
    assert "Break: <b>5 min</b> left (until 09:30)" in swept.params["text"]
    assert swept.keyboard == started.keyboard
    assert len(bot.standin.sent("sendMessage")) == 1


async def test_a_markdown_document_is_read_with_progress_and_a_summary(
    core: Runtime, bot: TelegramBot
) -> None:
    content = b"# Plan\n\nRevise the Krebs cycle and the xenolith notes.\n"
    stored = bot.standin.add_file("doc1", content)
    await bot.process(document_update(ALICE, stored, "plan.md", "text/markdown"))
    [got] = bot.standin.sent("sendMessage")
    assert (got.chat_id, got.params["text"]) == ("111", "Got plan.md. Reading it…")

    assert await core.services.jobs.drain(30)
    # With an embedding model installed, "Indexing…" is one more edit in between.
    indexing = embedder_for(core.services) is not None
    await deliver_until(bot, 5 if indexing else 4)
    calls = [
        (c.method, c.params.get("message_id"), c.params["text"])
        for c in bot.standin.outgoing()
        if c.params.get("text") != "Indexing plan.md… 1 passage"
    ]
    assert calls[:3] == [
        ("sendMessage", None, "Got plan.md. Reading it…"),
        ("editMessageText", "1", "Reading plan.md…"),
        ("editMessageText", "1", "✅ Read plan.md: 1 passage."),
    ]
    assert calls[3][0] == "sendMessage" and "Search it with /search" in calls[3][2]

    await bot.process(message_update(ALICE, "/search xenolith"))
    found = bot.standin.sent("sendMessage")[-1]
    assert found.params["text"].startswith("<b>Results for “xenolith”</b>")
    assert "plan.md § Plan" in found.params["text"]
