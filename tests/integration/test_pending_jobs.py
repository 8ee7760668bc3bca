"""Jobs recorded with the transaction that asked for them (core.maintenance.pending): a
document is never left `queued` forever, and no job runs twice."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select, text

from core.chat.messages import Sender
from core.documents.models import QUEUED, READY, Document
from core.documents.service import INGEST_JOB, receive_file
from core.identity.service import user_for_sender
from core.jobs import InlineJobQueue, JobContext, enqueue_after_commit, run_job
from core.maintenance import pending
from core.maintenance.models import PendingJob
from teddy.runtime import Runtime
from tests.conftest import T0
from tests.integration import worker_jobs
from tests.integration.test_documents import attachment
from tests.support.chat_driver import ChatDriver

NOTES = b"Photosynthesis happens in chloroplasts. The quokka is a small marsupial.\n"


class NeverSends:
    """A queue whose process dies before its send: the job is recorded, never handed over."""

    async def enqueue(
        self, name: str, kwargs: dict[str, object], *, job_id: int | None = None
    ) -> None:
        raise ConnectionError("the process was killed before the send")

    async def reachable(self) -> bool:
        return True


def inline(core: Runtime) -> InlineJobQueue:
    queue = core.services.jobs
    assert isinstance(queue, InlineJobQueue)
    return queue


async def document(core: Runtime) -> Document:
    async with core.db.transaction() as session:
        (found,) = (await session.scalars(select(Document))).all()
        return found


async def test_a_job_whose_send_was_lost_is_relayed_and_runs_once(
    core: Runtime, chat: ChatDriver
) -> None:
    core.services.embedder = None
    dead = ChatDriver(core, "alice")
    jobs = core.services.jobs
    core.services.jobs = NeverSends()  # type: ignore[assignment]
    try:
        replies = await dead.send("", attachments=(attachment("notes.txt", NOTES),))
    finally:
        core.services.jobs = jobs
    assert "Got notes.txt" in replies[0].plain_text()
    assert (await document(core)).status == QUEUED
    jc = JobContext(core.db, core.services)
    # The send failed: the next relay sends it, without waiting out the resend interval.
    assert await pending.relay(jc) == 1
    assert await inline(core).drain(60)
    assert await pending.relay(jc, resend_after=timedelta(0)) == 0
    found = await document(core)
    assert (found.status, found.ingest_runs) == (READY, 1)
    assert "quokka" in await chat.say("/search quokka")


async def test_a_recorded_job_delivered_twice_runs_once(core: Runtime) -> None:
    core.services.embedder = None
    async with core.db.transaction() as session:
        user = await user_for_sender(session, Sender("test", "bob", "Bob"), T0)
        doc, _ = await receive_file(
            session, user=user, room=None, name="n.txt", data=NOTES, max_bytes=10**6
        )
        await enqueue_after_commit(session, NeverSends(), INGEST_JOB, document_id=doc.id)
    async with core.db.transaction() as session:
        job_id = await session.scalar(select(PendingJob.id))
    assert job_id is not None
    queue = inline(core)
    await queue.enqueue(INGEST_JOB, {"document_id": doc.id}, job_id=job_id)
    await queue.enqueue(INGEST_JOB, {"document_id": doc.id}, job_id=job_id)
    assert await queue.drain(60)
    await queue.enqueue(INGEST_JOB, {"document_id": doc.id}, job_id=job_id)  # a late redelivery
    assert await queue.drain(60)
    found = await document(core)
    assert (found.status, found.ingest_runs) == (READY, 1)
    async with core.db.transaction() as session:
        row = await session.get(PendingJob, job_id)
        assert row is not None and row.done_at is not None and row.runs == 1


async def test_a_document_left_queued_without_a_job_is_queued_again_by_the_sweep(
    core: Runtime,
) -> None:
    core.services.embedder = None
    async with core.db.transaction() as session:
        user = await user_for_sender(session, Sender("test", "carol", "Carol"), T0)
        doc, _ = await receive_file(
            session, user=user, room=None, name="old.txt", data=NOTES, max_bytes=10**6
        )
    async with core.db.transaction() as session:
        await session.execute(
            text("UPDATE documents SET updated_at = :at WHERE id = :id"),
            {"at": T0 - timedelta(hours=2), "id": doc.id},
        )
    jc = JobContext(core.db, core.services)
    await run_job("documents.sweep_stuck", jc, {})
    assert await inline(core).drain(60)
    found = await document(core)
    assert (found.status, found.ingest_runs) == (READY, 1)
    await run_job("documents.sweep_stuck", jc, {})
    assert await inline(core).drain(60)
    assert (await document(core)).ingest_runs == 1


async def test_sending_a_file_again_while_it_waits_says_so(core: Runtime) -> None:
    core.services.embedder = None
    chat = ChatDriver(core, "dave")
    jobs = core.services.jobs
    core.services.jobs = NeverSends()  # type: ignore[assignment]
    try:
        await chat.send("", attachments=(attachment("notes.txt", NOTES),))
        again = await chat.send("", attachments=(attachment("notes.txt", NOTES),))
    finally:
        core.services.jobs = jobs
    assert "waiting to be read" in again[0].plain_text()


async def test_a_run_that_lost_its_lease_to_another_stops_and_leaves_the_job_to_it(
    core: Runtime,
) -> None:
    async with core.db.transaction() as session:
        for statement in worker_jobs.TABLES:
            await session.execute(text(statement))
        await session.execute(text("TRUNCATE test_job_runs, test_job_done"))
        await enqueue_after_commit(session, NeverSends(), "test.worker.mark", key="k", sleep=6.0)
    async with core.db.transaction() as session:
        job_id = await session.scalar(select(PendingJob.id))
    assert job_id is not None
    core.services.settings = core.settings.model_copy(update={"job_lease_seconds": 3})
    queue = inline(core)
    await queue.enqueue("test.worker.mark", {"key": "k", "sleep": 6.0}, job_id=job_id)
    await asyncio.sleep(0.5)
    async with core.db.transaction() as session:  # another run took it over meanwhile
        await session.execute(
            text("UPDATE pending_jobs SET lease_token = 'another' WHERE id = :id"), {"id": job_id}
        )
    assert await queue.drain(30)
    assert queue.failures == []
    async with core.db.transaction() as session:
        done = await session.scalar(text("SELECT count(*) FROM test_job_done"))
        row = await session.get(PendingJob, job_id)
    assert done == 0  # stopped before its result
    assert row is not None and row.done_at is None and row.lease_token == "another"


async def test_relays_while_the_queue_is_down_do_not_push_the_next_send_back(
    core: Runtime,
) -> None:
    async with core.db.transaction() as session:
        user = await user_for_sender(session, Sender("test", "fay", "Fay"), T0)
        doc, _ = await receive_file(
            session, user=user, room=None, name="n.txt", data=NOTES, max_bytes=10**6
        )
        await enqueue_after_commit(session, NeverSends(), INGEST_JOB, document_id=doc.id)
    down = JobContext(core.db, replace(core.services, jobs=NeverSends()))
    for _ in range(3):
        assert await pending.relay(down, resend_after=timedelta(0)) == 0
    async with core.db.transaction() as session:
        row = (await session.scalars(select(PendingJob))).one()
        assert row.sends == 0  # never handed over: due at once when the queue is back
    core.services.embedder = None
    assert await pending.relay(JobContext(core.db, core.services), timedelta(0)) == 1
    assert await inline(core).drain(60)
    assert (await document(core)).status == READY
