"""What students do, run against the product however it is deployed (`teddy up`, or one
process per host): every step goes through the Telegram and Slack adapters."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Protocol

from tests.doc_samples import pdf
from tests.e2e.test_slack import slash
from tests.support.deployed import ANSWER, SUMMARY, StandIns, edits_of, eventually, query
from tests.support.telegram_standin import message_update, user

STUDENT = user(5101, "Noor")
GROUP = -1005101
PAGES = [
    "Photosynthesis happens in the chloroplasts of plant cells. Chlorophyll absorbs red and "
    "blue light and reflects green light, which is why leaves look green.",
    "The light reactions split water and release oxygen; the Calvin cycle then fixes carbon "
    "dioxide into sugar using the energy the light reactions stored.",
]


class Product(Protocol):
    standins: StandIns
    log: Path  # where the worker logs

    @property
    def database_url(self) -> str: ...

    async def sweep(self, name: str) -> None:
        """Run the periodic job `name` now, and return once it ran."""
        ...

    def upload(self, sender: dict[str, Any], name: str, data: bytes) -> None: ...

    async def document(self, title: str) -> dict[str, Any]: ...

    def kill_worker(self) -> None:
        """`kill -9` the worker and everything it runs."""
        ...

    async def replace_worker(self) -> None:
        """Return once a new worker runs in place of the killed one."""
        ...


async def serve_students(product: Product) -> None:
    """A PDF summarised by the model, a cited answer, a group focus session's live
    message edited at each phase change, a task reminder at its time."""
    telegram, slack = product.standins.telegram, product.standins.slack
    dm = STUDENT["id"]

    product.upload(STUDENT, "photosynthesis.pdf", pdf(PAGES))
    await eventually(
        lambda: any(SUMMARY in t for t in telegram.texts(dm)), 60, "the summary", product.log
    )
    doc = await product.document("photosynthesis.pdf")
    assert doc["status"] == "ready" and doc["summary"] == SUMMARY  # not the extractive one
    assert any(t.startswith("✅ Read photosynthesis.pdf: 2 pages") for t in telegram.texts(dm))

    telegram.push_update(message_update(STUDENT, "/ask what does chlorophyll absorb?"))
    await eventually(
        lambda: any("Sources" in t for t in telegram.texts(dm)), 30, "the answer", product.log
    )
    answer = [t for t in telegram.texts(dm) if "Sources" in t][-1]
    assert ANSWER in answer and "[1] photosynthesis.pdf" in answer

    # The session is aged a minute at a time (as if the clock had moved) and the sweep
    # moves it on; the bot edits the one live message.
    telegram.push_update(message_update(STUDENT, "/focus 1 1", chat_id=GROUP))
    await eventually(
        lambda: telegram.first_message(GROUP, "Group focus") is not None,
        30,
        "the focus session",
        product.log,
    )
    live = telegram.first_message(GROUP, "Group focus")
    assert live is not None and "🎯 Focus" in live["text"]
    await age_focus(product, minutes=1)
    await eventually(
        lambda: "☕ Break" in live["text"], 30, "the live message to show the break", product.log
    )
    await age_focus(product, minutes=1)
    await eventually(
        lambda: "Focus session finished" in live["text"],
        30,
        "the live message to show the end",
        product.log,
    )
    edits = edits_of(telegram.calls, live["message_id"])
    assert any("☕ Break" in t for t in edits) and "Focus session finished" in edits[-1]
    assert len(telegram.texts(GROUP, "sendMessage")) == 1  # edited, never sent again

    # A task's reminder through Slack: nothing before its time, then the reminder.
    await slack.push("slash_commands", slash("task water the basil in 3 hours"), "env-t1")
    await eventually(lambda: bool(slack_texts(product)), 30, "the task's confirmation", product.log)
    confirmations = len(slack_texts(product))
    await product.sweep("tasks.sweep_reminders")
    assert not await query(
        product.database_url, "SELECT id FROM outbox WHERE text LIKE '%water the basil%'"
    )
    await query(
        product.database_url,
        "UPDATE tasks SET due_at = due_at - (next_remind_at - now()), next_remind_at = now() "
        "WHERE title = 'water the basil' RETURNING id",
    )
    await product.sweep("tasks.sweep_reminders")
    await eventually(
        lambda: any("water the basil" in t for t in slack_texts(product)[confirmations:]),
        30,
        "the reminder",
        product.log,
    )


async def kill_the_worker_mid_ingestion(product: Product) -> None:
    """The worker dies while it reads a PDF; once a new worker runs, the document is read
    within a minute, exactly once."""
    telegram, llm = product.standins.telegram, product.standins.llm
    dm = STUDENT["id"]
    llm.hold_embeddings()  # the worker waits on the model: catch it there
    asked = llm.embedding_requests
    product.upload(STUDENT, "cells.pdf", pdf(["Mitochondria make ATP for the cell. " * 20] * 3))
    await eventually(lambda: llm.embedding_requests > asked, 30, "ingestion to start", product.log)
    assert (await product.document("cells.pdf"))["status"] == "processing"
    product.kill_worker()
    llm.release_embeddings()
    await product.replace_worker()
    replaced_at = time.monotonic()

    async def read() -> bool:
        return bool((await product.document("cells.pdf"))["status"] == "ready")

    await eventually(read, 60, "the document to be read after the worker died", product.log)
    assert time.monotonic() - replaced_at < 60
    doc = await product.document("cells.pdf")
    (job,) = await query(
        product.database_url,
        "SELECT runs, done_at FROM pending_jobs WHERE job = 'documents.ingest' "
        "AND (kwargs->>'document_id')::int = :id",
        id=doc["id"],
    )
    assert job.runs == 2 and job.done_at is not None  # the killed run and one more
    assert doc["ingest_runs"] == 2 and doc["summary"] == SUMMARY
    (chunks,) = await query(
        product.database_url,
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


async def age_focus(product: Product, *, minutes: int) -> None:
    """Move the running focus sessions `minutes` into the past, then sweep them."""
    shift = f"interval '{minutes} minutes'"
    await query(
        product.database_url,
        f"UPDATE focus_sessions SET started_at = started_at - {shift}, "
        f"phase_ends_at = phase_ends_at - {shift}, next_update_at = now() "
        "WHERE phase != 'done' RETURNING id",
    )
    await query(
        product.database_url,
        f"UPDATE focus_participants SET first_joined_at = first_joined_at - {shift}, "
        f"joined_at = joined_at - {shift} RETURNING id",
    )
    await product.sweep("rooms.sweep_focus")


def slack_texts(product: Product) -> list[str]:
    return [
        str(c.params.get("text", ""))
        for c in product.standins.slack.calls
        if c.method == "chat.postMessage" and c.status == 200
    ]
