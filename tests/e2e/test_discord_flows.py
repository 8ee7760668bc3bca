"""Whole Discord flows through the real capabilities: a review card answered after the
client restarted, and a task completed with its button."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bots.discord.adapter import TeddyDiscord
from core.clock import FixedClock
from core.jobs import JobContext, run_job
from teddy.runtime import Runtime
from tests.e2e import test_discord as base
from tests.e2e.test_discord import (
    DM_CHANNEL,
    callbacks,
    click,
    message_create,
    slash,
    start_client,
    stop_client,
)
from tests.support.discord_standin import APP_ID, TEXT_CHANNEL, DiscordStandIn, member

BOB = "940000000000000002"

standin = base.standin  # the same fixture


@pytest.fixture
async def bot(core: Runtime, standin: DiscordStandIn) -> AsyncIterator[TeddyDiscord]:
    client, task = await start_client(core, standin)
    yield client
    await stop_client(client, task)


def buttons(body: dict[str, Any]) -> dict[str, str]:
    """Label -> custom_id of every button in an interaction callback."""
    rows = body["data"].get("components", [])
    return {b["label"]: b["custom_id"] for row in rows for b in row["components"]}


async def run(
    standin: DiscordStandIn,
    name: str,
    options: dict[str, str | int] | None = None,
    *,
    dm: bool = True,
    **how: Any,
) -> dict[str, Any]:
    """Send one slash command (in the DM or the guild's text channel); return its answer:
    the interaction's callback, or, when the bot deferred it because the core took over two
    seconds (a busy machine), the follow-up that carried the reply, in a callback's shape."""
    seen, followed_up = len(callbacks(standin)), len(followups(standin))
    await standin.dispatch("INTERACTION_CREATE", slash(name, options, dm=dm, **how))
    await standin.wait_for("POST", "/callback", seen + 1)
    answer = callbacks(standin)[seen]
    if answer["type"] != DEFERRED_REPLY:
        return answer
    await standin.wait_for("POST", f"/webhooks/{APP_ID}/", followed_up + 1)
    data = dict(followups(standin)[followed_up])
    files = data.pop("files", None)  # a callback carries its attachments beside its data
    return {"type": CHANNEL_MESSAGE, "data": data} | ({} if files is None else {"files": files})


DEFERRED_REPLY, CHANNEL_MESSAGE = 5, 4  # Discord's interaction callback types


def followups(standin: DiscordStandIn) -> list[dict[str, Any]]:
    return [c.body for c in standin.named("POST", f"/webhooks/{APP_ID}/")]


async def press(standin: DiscordStandIn, custom_id: str, message_id: str) -> dict[str, Any]:
    seen = len(callbacks(standin))
    await standin.dispatch("INTERACTION_CREATE", click(custom_id, message_id))
    await standin.wait_for("POST", "/callback", seen + 1)
    return callbacks(standin)[seen]


async def test_show_answer_on_a_review_card_still_works_after_a_restart(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    await run(standin, "deck", {"deck": "Bio"})
    added = await run(standin, "card", {"front": "Mitochondria", "back": "powerhouse"})
    assert added["data"]["content"] == "Added 1 card to **Bio**. /review to study."
    question = await run(standin, "review")
    assert question["type"] == 4 and question["data"]["content"].endswith("Mitochondria")
    assert list(buttons(question)) == ["Show answer", "End session"]
    assert buttons(question)["Show answer"].startswith("t:fc.show:")
    message_id = list(standin.originals.values())[-1]

    await bot.close()  # a restart: the new client process only sees the old button
    client, task = await start_client(core, standin)
    try:
        shown = await press(standin, buttons(question)["Show answer"], message_id)
    finally:
        await stop_client(client, task)
    assert shown["type"] == 7  # the card's message is edited in place
    assert "powerhouse" in shown["data"]["content"]
    assert list(buttons(shown))[:4] == ["Again · 1m", "Hard · 6m", "Good · 10m", "Easy · 8d"]

    client, task = await start_client(core, standin)
    try:
        graded = await press(standin, buttons(shown)["Good · 10m"], message_id)
        [summary] = await standin.wait_for("POST", f"/webhooks/{APP_ID}/")
    finally:
        await stop_client(client, task)
    assert graded["type"] == 7 and "Good · next in 10m" in graded["data"]["content"]
    assert summary.body["content"].startswith("**Session done**: 1 card")


async def test_a_task_is_completed_with_its_button(
    bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    added = await run(standin, "task", {"title": "Lab report", "due": "fri 5pm"})
    assert added["data"]["content"].startswith("Added **1**. Lab report\ndue Fri 27 Nov 17:00")
    assert buttons(added) == {"✓ 1": "t:tasks.done:1"}
    message_id = list(standin.originals.values())[-1]

    done = await press(standin, "t:tasks.done:1", message_id)
    assert done["type"] == 4 and done["data"]["content"] == "✓ Done: **1**. Lab report"
    assert buttons(done) == {"Undo": "t:tasks.undo:1"}
    listed = await run(standin, "tasks", {"view": "done"})
    assert listed["data"]["content"].startswith("**Your done tasks** (1)\n")


async def test_a_channel_focus_session_is_joined_and_edited_by_the_sweep(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn, clock: FixedClock
) -> None:
    started = await run(standin, "focus", {"minutes": 25}, dm=False)
    assert started["type"] == 4 and "25 min" in started["data"]["content"]
    assert list(buttons(started)) == ["Join", "Leave", "Stop"]
    message_id = list(standin.originals.values())[-1]

    join = click(buttons(started)["Join"], message_id, dm=False)
    join["member"] = member(BOB, "bob")
    await standin.dispatch("INTERACTION_CREATE", join)
    await standin.wait_for("POST", "/callback", 2)
    joined = callbacks(standin)[1]
    assert joined["type"] == 7 and "In (2): Alice, Bob" in joined["data"]["content"]

    clock.advance(timedelta(minutes=25))
    await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})
    await bot.deliverer().deliver_round()
    [swept] = standin.named("PATCH", f"/channels/{TEXT_CHANNEL}/messages/{message_id}")
    assert swept.body["content"].endswith(
        "☕ Break: **5 min** left (until 09:30)\nIn (2): Alice, Bob"
    )
    assert buttons({"data": swept.body}) == buttons(started)


async def test_a_markdown_attachment_in_a_dm_is_read_with_its_message_edited(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn
) -> None:
    content = b"# Plan\n\nRevise the Krebs cycle and the xenolith notes.\n"
    standin.cdn["plan.md"] = content
    attachment = {
        "id": "1",
        "filename": "plan.md",
        "size": len(content),
        "url": f"{standin.url}/cdn/plan.md",
        "proxy_url": f"{standin.url}/cdn/plan.md",
        "content_type": "text/markdown",
    }
    await standin.dispatch("MESSAGE_CREATE", message_create("", dm=True, attachments=[attachment]))
    [got] = await standin.wait_for("POST", f"/channels/{DM_CHANNEL}/messages")
    assert got.body["content"] == "Got plan.md. Reading it…"

    assert await core.services.jobs.drain(120)  # reading it loads the embedding model
    stop = asyncio.Event()
    delivering = asyncio.create_task(bot.deliverer().run(stop))
    try:
        await standin.wait_for("POST", f"/channels/{DM_CHANNEL}/messages", 2, timeout=20)
    finally:
        stop.set()
        await delivering
    edits = [c.body["content"] for c in standin.named("PATCH", f"/channels/{DM_CHANNEL}/messages/")]
    # "Indexing…" shows in between only when an embedding model is installed.
    edits = [e for e in edits if e != "Indexing plan.md… 1 passage"]
    assert edits == ["Reading plan.md…", "✅ Read plan.md: 1 passage."]
    summary = standin.named("POST", f"/channels/{DM_CHANNEL}/messages")[1]
    assert "Search it with /search" in summary.body["content"]


async def test_a_solo_focus_session_in_a_dm_is_edited_by_the_sweep_at_the_break(
    core: Runtime, bot: TeddyDiscord, standin: DiscordStandIn, clock: FixedClock
) -> None:
    started = await run(standin, "focus", {"minutes": 25, "subject": "chem"})
    assert "🎯 Focus: **25 min** left" in started["data"]["content"]
    assert "#chem" in started["data"]["content"]
    assert list(buttons(started)) == ["Pause", "Stop"]
    message_id = list(standin.originals.values())[-1]

    clock.advance(timedelta(minutes=25))
    await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})
    await bot.deliverer().deliver_round()
    [swept] = standin.named("PATCH", f"/channels/{DM_CHANNEL}/messages/{message_id}")
    assert "☕ Break: **5 min** left (until 09:30)" in swept.body["content"]
    assert buttons({"data": swept.body}) == buttons(started)
