"""Whole Slack flows through the real capabilities: tasks, flashcard review, a shared file
read into /search, and a channel focus session kept live by the sweep and the outbox, or at
once by its room events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import timedelta

import httpx

from bots.slack.adapter import SlackAdapter
from core.clock import FixedClock
from core.jobs import JobContext, run_job
from teddy.runtime import Runtime
from tests.e2e import test_slack as base
from tests.e2e.test_live_room_events import AT_ONCE, following, sweep
from tests.e2e.test_slack import click, file_share, post_event, post_form, slash
from tests.support.slack_standin import Call, SlackStandIn

standin, slack, http = base.standin, base.slack, base.http  # the same fixtures


def buttons(call: Call) -> dict[str, str]:
    """Label -> value of every button in a posted or updated message."""
    blocks = call.params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    found: dict[str, str] = {}
    for block in blocks:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            found[element["text"]["text"]] = element["value"]
    return found


async def deliver_until(
    slack: SlackAdapter, standin: SlackStandIn, wanted: Callable[[Call], bool]
) -> Call:
    """Run the outbox deliverer until a chat.postMessage/chat.update matching `wanted`."""
    stop = asyncio.Event()
    task = asyncio.create_task(slack.deliverer().run(stop))
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for call in standin.calls:
                if call.method in ("chat.postMessage", "chat.update") and wanted(call):
                    return call
            await asyncio.sleep(0.05)
        raise AssertionError([c.params.get("text") for c in standin.calls])
    finally:
        stop.set()
        await task


async def nth_post(standin: SlackStandIn, n: int) -> Call:
    """The n-th chat.postMessage (1-based), once it has been made."""
    return (await standin.wait_for("chat.postMessage", n))[n - 1]


async def test_a_task_is_added_completed_by_its_button_and_listed_as_done(
    http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    await post_form(http, slash("task Lab report fri 5pm"))
    added = (await standin.wait_for("chat.postMessage"))[0]
    assert added.params["channel"] == "D100"
    assert added.params["text"].startswith("Added 1. Lab report\ndue Fri 27 Nov 17:00")
    assert "Added *1*. Lab report" in json.dumps(added.params["blocks"], ensure_ascii=False)
    assert list(buttons(added)) == ["✓ 1"]

    await post_form(http, click(buttons(added)["✓ 1"]))
    done = await nth_post(standin, 2)
    assert done.params["text"] == "✓ Done: 1. Lab report"
    assert list(buttons(done)) == ["Undo"]

    await post_form(http, slash("tasks done", trigger="t2"))
    listed = await nth_post(standin, 3)
    assert listed.params["text"].startswith("Your done tasks (1)\n")
    assert "Lab report" in listed.params["text"] and buttons(listed) == {}


async def test_a_review_session_shows_the_answer_and_grades_with_interval_labels(
    http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    for n, text in enumerate(["deck Bio", "card Mitochondria | powerhouse", "review"], 1):
        await post_form(http, slash(text, trigger=f"t{n}"))
        await standin.wait_for("chat.postMessage", n)  # slash commands run concurrently
    posted = standin.named("chat.postMessage")
    assert posted[1].params["text"] == "Added 1 card to Bio. /review to study."
    question = posted[2]
    assert question.params["text"].endswith("Mitochondria")
    assert list(buttons(question)) == ["Show answer", "End session"]

    await post_form(http, click(buttons(question)["Show answer"], ts="2.2"))
    shown = (await standin.wait_for("chat.update"))[0]
    assert shown.params["ts"] == "1700000003.000100"  # the question message, edited
    assert "powerhouse" in shown.params["text"]
    labels = list(buttons(shown))
    assert labels[:4] == ["Again · 1m", "Hard · 6m", "Good · 10m", "Easy · 8d"]

    await post_form(http, click(buttons(shown)["Good · 10m"], ts="3.3"))
    graded = (await standin.wait_for("chat.update", 2))[1]
    assert graded.params["ts"] == "1700000003.000100"
    assert "Good · next in 10m" in graded.params["text"]
    assert list(buttons(graded)) == ["↩ Undo"]  # the grade can be taken back


async def test_a_markdown_file_shared_in_a_dm_is_read_and_then_searchable(
    core: Runtime, http: httpx.AsyncClient, slack: SlackAdapter, standin: SlackStandIn
) -> None:
    standin.files["plan.md"] = b"# Plan\n\nRevise the Krebs cycle and the xenolith notes.\n"
    event = file_share(standin, "plan.md", 55)
    await post_event(http, event, "Ev-doc")
    got = (await standin.wait_for("chat.postMessage"))[0]
    assert got.params == {**got.params, "channel": "D100", "text": "Got plan.md. Reading it…"}

    assert await core.services.jobs.drain(30)
    said = await deliver_until(
        slack, standin, lambda c: "Read plan.md: 1 passage" in c.params["text"]
    )
    assert (said.method, said.params["channel"]) == ("chat.update", "D100")
    assert said.params["ts"] == "1700000001.000100"  # the "Reading it…" message, edited
    summary = await deliver_until(slack, standin, lambda c: "/search" in c.params["text"])
    assert summary.method == "chat.postMessage"  # the summary follows as its own message
    assert summary.params["text"].startswith("plan.md\n\nRevise the Krebs cycle")

    await post_form(http, slash("search xenolith", trigger="t9"))
    found = await nth_post(standin, 3)
    assert found.params["channel"] == "D100"
    assert found.params["text"] == (
        "Results for “xenolith”\n\n"
        "1. plan.md § Plan: Revise the Krebs cycle and the xenolith notes."
    )


async def test_a_channel_focus_session_is_joined_and_kept_live_by_the_sweep(
    core: Runtime,
    http: httpx.AsyncClient,
    slack: SlackAdapter,
    standin: SlackStandIn,
    clock: FixedClock,
) -> None:
    await post_form(http, slash("focus 25", channel="C500"))
    started = (await standin.wait_for("chat.postMessage"))[0]
    assert started.params["channel"] == "C500" and "25 min" in started.params["text"]
    assert list(buttons(started)) == ["Join", "Leave", "Stop"]
    live_ts = "1700000001.000100"

    await post_form(http, click(buttons(started)["Join"], channel="C500", user="U2", ts="4.4"))
    joined = (await standin.wait_for("chat.update"))[0]
    assert (joined.params["channel"], joined.params["ts"]) == ("C500", live_ts)
    assert "In (2)" in joined.params["text"]

    clock.advance(timedelta(minutes=25))
    await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})
    await slack.deliverer().deliver_round()  # one message per channel per round
    swept = (await standin.wait_for("chat.update", 2))[1]
    assert (swept.params["channel"], swept.params["ts"]) == ("C500", live_ts)
    assert "Break: 5 min left (until 09:30)" in swept.params["text"]
    assert buttons(swept) == buttons(started)
    assert len(standin.named("chat.postMessage")) == 1


async def test_a_solo_focus_session_in_a_dm_is_kept_live_by_the_sweep(
    core: Runtime,
    http: httpx.AsyncClient,
    slack: SlackAdapter,
    standin: SlackStandIn,
    clock: FixedClock,
) -> None:
    await post_form(http, slash("focus 25 5 #chem"))
    started = (await standin.wait_for("chat.postMessage"))[0]
    assert started.params["channel"] == "D100" and "Focus: 25 min left" in started.params["text"]
    assert list(buttons(started)) == ["Pause", "Stop"]

    clock.advance(timedelta(minutes=25))
    await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})
    swept = await deliver_until(slack, standin, lambda c: "Break" in c.params.get("text", ""))
    assert swept.method == "chat.update" and swept.params["channel"] == "D100"
    assert swept.params["ts"] == "1700000001.000100"  # the stand-in's first message
    assert "Break: 5 min left (until 09:30)" in swept.params["text"]
    assert len(standin.named("chat.postMessage")) == 1


async def test_a_phase_change_updates_the_live_message_at_once_through_room_events(
    core: Runtime,
    http: httpx.AsyncClient,
    slack: SlackAdapter,
    standin: SlackStandIn,
    clock: FixedClock,
) -> None:
    await post_form(http, slash("focus 25", channel="C500"))
    await standin.wait_for("chat.postMessage")
    async with following(core, "slack", slack.show_room_event):
        published = await sweep(core, clock, 25)
        [swept] = await standin.wait_for("chat.update", timeout=AT_ONCE)
        assert time.monotonic() - published < AT_ONCE
    assert (swept.params["channel"], swept.params["ts"]) == ("C500", "1700000001.000100")
    assert "Break: 5 min left (until 09:30)" in swept.params["text"]
    assert len(standin.named("chat.postMessage")) == 1  # no outbox delivery ran
