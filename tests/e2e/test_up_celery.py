"""`teddy up` as deployed: Celery worker and beat, the Telegram and Slack bots in their own
processes against the stand-ins, the fake model, embedded PostgreSQL and Redis. Everything
is driven through the adapters; a worker killed mid-ingestion loses nothing and runs
nothing twice."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest

from tests.doc_samples import pdf
from tests.e2e.test_slack import slash
from tests.support.deployed import (
    ANSWER,
    SUMMARY,
    edits_of,
    eventually,
    query,
)
from tests.support.telegram_standin import message_update, user
from tests.support.up_celery import Up, running_up

STUDENT = user(5101, "Noor")
GROUP = -1005101
PAGES = [
    "Photosynthesis happens in the chloroplasts of plant cells. Chlorophyll absorbs red and "
    "blue light and reflects green light, which is why leaves look green.",
    "The light reactions split water and release oxygen; the Calvin cycle then fixes carbon "
    "dioxide into sugar using the energy the light reactions stored.",
]


@pytest.fixture(scope="module")
async def up(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Up]:
    async with running_up(tmp_path_factory.mktemp("up"), {"JOB_LEASE_SECONDS": "6"}) as deployed:
        yield deployed


def upload(up: Up, name: str, data: bytes) -> None:
    up.upload(STUDENT, name, data)


async def test_teddy_up_in_celery_mode_serves_students_through_both_bots(up: Up) -> None:
    telegram, slack = up.standins.telegram, up.standins.slack
    dm = STUDENT["id"]

    # A PDF: read by the worker, summarised by the model (not the extractive fallback).
    upload(up, "photosynthesis.pdf", pdf(PAGES))
    await eventually(
        lambda: any(SUMMARY in t for t in telegram.texts(dm)), 60, "the summary", up.log
    )
    doc = await up.document("photosynthesis.pdf")
    assert doc["status"] == "ready" and doc["summary"] == SUMMARY
    assert any(t.startswith("✅ Read photosynthesis.pdf: 2 pages") for t in telegram.texts(dm))

    # A question about it: the model's answer with its citation and the cited source.
    telegram.push_update(message_update(STUDENT, "/ask what does chlorophyll absorb?"))
    await eventually(
        lambda: any("Sources" in t for t in telegram.texts(dm)), 30, "the answer", up.log
    )
    answer = [t for t in telegram.texts(dm) if "Sources" in t][-1]
    assert ANSWER in answer and "[1] photosynthesis.pdf" in answer

    # A group focus session: one live message, edited when the focus ends and the break
    # begins, and again when the break ends. The session is aged a minute at a time (as if
    # the clock had moved) and beat's sweep in the worker moves it on.
    telegram.push_update(message_update(STUDENT, "/focus 1 1", chat_id=GROUP))
    await eventually(
        lambda: telegram.first_message(GROUP, "Group focus") is not None,
        30,
        "the focus session",
        up.log,
    )
    live = telegram.first_message(GROUP, "Group focus")
    assert live is not None and "🎯 Focus" in live["text"]
    await age_focus(up, minutes=1)
    await eventually(
        lambda: "☕ Break" in live["text"], 30, "the live message to show the break", up.log
    )
    await age_focus(up, minutes=1)
    await eventually(
        lambda: "Focus session finished" in live["text"],
        30,
        "the live message to show the end",
        up.log,
    )
    edits = edits_of(telegram.calls, live["message_id"])
    assert any("☕ Break" in t for t in edits) and "Focus session finished" in edits[-1]
    assert len(telegram.texts(GROUP, "sendMessage")) == 1  # edited, never sent again

    # A task's reminder through Slack: nothing before its time, then the reminder.
    await slack.push("slash_commands", slash("task water the basil in 3 hours"), "env-t1")
    await eventually(lambda: bool(slack_texts(up)), 30, "the task's confirmation", up.log)
    confirmations = len(slack_texts(up))
    await up.sweep("tasks.sweep_reminders")
    assert not await query(
        up.state.database_url,
        "SELECT id FROM outbox WHERE text LIKE '%water the basil%'",
    )
    await query(
        up.state.database_url,
        "UPDATE tasks SET due_at = due_at - (next_remind_at - now()), next_remind_at = now() "
        "WHERE title = 'water the basil' RETURNING id",
    )
    await up.sweep("tasks.sweep_reminders")
    await eventually(
        lambda: any("water the basil" in t for t in slack_texts(up)[confirmations:]),
        30,
        "the reminder",
        up.log,
    )


async def test_a_worker_killed_mid_ingestion_is_replaced_and_the_document_read_once(
    up: Up,
) -> None:
    telegram, llm = up.standins.telegram, up.standins.llm
    dm = STUDENT["id"]
    llm.hold_embeddings()  # the worker waits on the model: catch it there
    asked = llm.embedding_requests
    upload(up, "cells.pdf", pdf(["Mitochondria make ATP for the cell. " * 20] * 3))
    await eventually(lambda: llm.embedding_requests > asked, 30, "ingestion to start", up.log)
    doc = await up.document("cells.pdf")
    assert doc["status"] == "processing"
    os.killpg(up.pid_of("worker"), signal.SIGKILL)
    killed_at = time.monotonic()
    llm.release_embeddings()

    async def read() -> bool:
        return bool((await up.document("cells.pdf"))["status"] == "ready")

    await eventually(read, 60, "the document to be read after the worker died", up.log)
    assert time.monotonic() - killed_at < 60
    assert "worker exited with code -9" in up.log.read_text()
    doc = await up.document("cells.pdf")
    (job,) = await query(
        up.state.database_url,
        "SELECT runs, done_at FROM pending_jobs WHERE job = 'documents.ingest' "
        "AND (kwargs->>'document_id')::int = :id",
        id=doc["id"],
    )
    assert job.runs == 2 and job.done_at is not None  # the killed run and one more
    assert doc["ingest_runs"] == 2 and doc["summary"] == SUMMARY
    (chunks,) = await query(
        up.state.database_url,
        "SELECT count(*) AS n, count(DISTINCT ordinal) AS distinct FROM document_chunks "
        "WHERE document_id = :id",
        id=doc["id"],
    )
    assert chunks.n == chunks.distinct == doc["chunk_count"] > 0

    def finished() -> list[str]:
        return [t for t in telegram.texts(dm) if t.startswith("✅ Read cells.pdf")]

    def summaries() -> list[str]:
        return [t for t in telegram.texts(dm, "sendMessage") if "cells.pdf" in t and SUMMARY in t]

    await eventually(lambda: bool(finished() and summaries()), 30, "the news in the chat")
    await asyncio.sleep(2)  # room for a duplicate to arrive
    assert len(finished()) == 1 and len(summaries()) == 1, telegram.texts(dm)


async def age_focus(up: Up, *, minutes: int) -> None:
    """Move the group's running focus session `minutes` into the past."""
    shift = f"interval '{minutes} minutes'"
    await query(
        up.state.database_url,
        f"UPDATE focus_sessions SET started_at = started_at - {shift}, "
        f"phase_ends_at = phase_ends_at - {shift}, next_update_at = now() "
        "WHERE phase != 'done' RETURNING id",
    )
    await query(
        up.state.database_url,
        f"UPDATE focus_participants SET first_joined_at = first_joined_at - {shift}, "
        f"joined_at = joined_at - {shift} RETURNING id",
    )
    await up.sweep("rooms.sweep_focus")


def slack_texts(up: Up) -> list[str]:
    return [
        str(c.params.get("text", ""))
        for c in up.standins.slack.calls
        if c.method == "chat.postMessage" and c.status == 200
    ]
