"""The ingestion job: extract, chunk, embed, index and summarise one document.

Idempotent: every run replaces the document's chunks in one transaction, so running it
twice (a redelivered task) leaves the same state. Whatever goes wrong ends in status
`failed` with a message in the chat, never in a stuck `processing`."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from core.chat.markup import count, escape
from core.documents import extraction as ex
from core.documents import ocr
from core.documents.chunking import ChunkDraft, chunk_blocks
from core.documents.embeddings import embedder_for
from core.documents.indexing import replace_chunks, set_embeddings
from core.documents.models import PROCESSING, QUEUED, READY, Chunk, Document
from core.documents.service import (
    INGEST_JOB,
    document_bytes,
    ingestion_pending,
    mark_failed,
    requeue_stale,
)
from core.documents.summary import joined_text, summarizer_for
from core.errors import TeddyError
from core.identity.models import Room, User
from core.jobs import JobContext, job, periodic
from core.outbox.service import notify_room, notify_user

log = logging.getLogger(__name__)

INGEST = INGEST_JOB
STUCK_AFTER = timedelta(minutes=30)
# Longer than the relay's first resend: a job on its way is not queued twice.
QUEUED_STALE_AFTER = timedelta(minutes=10)
# Page progress (an edit of the live message, a transaction each) at most this often: a
# PDF read in under a second shows only its last page count.
PROGRESS_SECONDS = 1.0


@dataclass(frozen=True)
class Target:
    """Where progress goes: the room the file was sent in, or the uploader's DMs."""

    document_id: int
    title: str
    room_id: int | None
    user_id: int | None
    run: int


async def say(jc: JobContext, target: Target, step: str, message: str, *, live: bool) -> None:
    """Post (live: edit the document's live message) through the outbox."""
    live_id = f"doc-{target.document_id}" if live else None
    key = f"doc-{target.document_id}-r{target.run}-{step}"
    now = jc.services.clock.now()
    async with jc.db.transaction() as session:
        if target.room_id is not None:
            room = await session.get(Room, target.room_id)
            if room is not None:
                await notify_room(
                    session,
                    room,
                    kind="document",
                    text=message,
                    dedupe_key=key,
                    at=now,
                    live_id=live_id,
                )
        elif target.user_id is not None:
            user = await session.get(User, target.user_id)
            if user is not None:
                await notify_user(
                    session,
                    user,
                    kind="document",
                    text=message,
                    dedupe_key=key,
                    at=now,
                    respect_quiet_hours=False,
                    live_id=live_id,
                )


@job(INGEST)
async def ingest(jc: JobContext, document_id: int) -> None:
    async with jc.db.transaction() as session:
        document = await session.get(Document, document_id, with_for_update=True)
        if document is None:
            return
        document.status = PROCESSING
        document.error = None
        document.ingest_runs += 1
        data = await document_bytes(session, document_id)
        target = Target(
            document_id,
            document.title,
            document.owner_room_id,
            document.uploaded_by,
            document.ingest_runs,
        )
        kind = document.kind
    try:
        if data is None:
            raise ex.ExtractionError(f"The file of {target.title} is gone; send it again.")
        await _process(jc, target, kind, data)
    except ex.ExtractionError as err:
        await _fail(jc, target, err.message)
    except TeddyError as err:
        await _fail(jc, target, f"I could not index {target.title}: {err.message}")
    except Exception:
        log.exception("ingesting document %s failed", document_id)
        await _fail(
            jc, target, f"Something went wrong while reading {target.title}. Send it again later."
        )


async def _fail(jc: JobContext, target: Target, message: str) -> None:
    async with jc.db.transaction() as session:
        await mark_failed(session, target.document_id, message, jc.services.clock.now())
    await say(jc, target, "failed", f"❌ {escape(message)}", live=True)


async def _extract(
    jc: JobContext, target: Target, kind: str, data: bytes
) -> tuple[list[ex.Block], int | None]:
    name = target.title
    if kind == ex.PDF:
        pdf = await asyncio.to_thread(ex.PdfPages, data, name, jc.services.settings.max_pages)
        every = max(1, math.ceil(pdf.count / 10))
        blocks: list[ex.Block] = []
        shown = time.monotonic()
        for index in range(pdf.count):
            blocks.extend(await asyncio.to_thread(pdf.page_blocks, index))
            done = index + 1
            due = done % every == 0 and time.monotonic() - shown >= PROGRESS_SECONDS
            if due or done == pdf.count:
                text = f"Reading {escape(name)}… {done}/{pdf.count} pages"
                await say(jc, target, f"page-{done}", text, live=True)
                shown = time.monotonic()
        if not ex.has_text_layer(blocks, pdf.count) and ocr.available():
            await say(jc, target, "ocr", f"Recognising text in {escape(name)}…", live=True)
            blocks = await _recognise(pdf)
        ex.check_text_layer(name, blocks, pdf.count)
        return blocks, pdf.count
    await say(jc, target, "reading", f"Reading {escape(name)}…", live=True)
    if kind == ex.DOCX:
        return await asyncio.to_thread(ex.docx_blocks, data, name), None
    text = ex.decode_text(data)
    return ex.text_blocks(text, markdown=kind == ex.MD), None


async def _recognise(pdf: ex.PdfPages) -> list[ex.Block]:
    """A scan: the text recognised in each page's pictures, page numbers kept."""
    blocks: list[ex.Block] = []
    for index in range(pdf.count):
        images = await asyncio.to_thread(pdf.page_images, index)
        blocks.extend(await asyncio.to_thread(ocr.page_blocks, images, index + 1))
    return blocks


def _indexed_text(draft: ChunkDraft) -> str:
    return f"{draft.section}\n{draft.text}" if draft.section else draft.text


async def _process(jc: JobContext, target: Target, kind: str, data: bytes) -> None:
    blocks, pages = await _extract(jc, target, kind, data)
    drafts = chunk_blocks(blocks)
    if not drafts:
        raise ex.ExtractionError(f"{target.title} contains no text I can read.")
    embedder = embedder_for(jc.services)
    vectors = None
    if embedder is not None:
        note = f"Indexing {escape(target.title)}… {count(len(drafts), 'passage')}"
        await say(jc, target, "embedding", note, live=True)
        vectors = await embedder.embed([_indexed_text(d) for d in drafts])
    digest = await summarizer_for(jc.services).digest(
        target.title, joined_text([b.text for b in blocks])
    )
    async with jc.db.transaction() as session:
        document = await session.get(Document, target.document_id, with_for_update=True)
        if document is None or document.ingest_runs != target.run:
            return  # deleted meanwhile, or a newer run owns it now
        await replace_chunks(
            session, document, drafts, vectors, embedder.model if embedder else None
        )
        document.status = READY
        document.pages = pages
        document.chunk_count = len(drafts)
        document.summary = digest.summary
        document.key_concepts = digest.key_concepts
        document.processed_at = jc.services.clock.now()
    size = f"{count(pages, 'page')}, " if pages else ""
    done = f"✅ Read {escape(target.title)}: {size}{count(len(drafts), 'passage')}."
    await say(jc, target, "done", done, live=True)
    await say(jc, target, "summary", summary_text(document), live=False)


def summary_text(document: Document) -> str:
    lines = [f"**{escape(document.title)}**"]
    if document.summary:
        lines.append(escape(document.summary))
    if document.key_concepts:
        lines.append("Key concepts: " + ", ".join(escape(c) for c in document.key_concepts))
    lines.append("Search it with /search <words>, or ask about it with /ask.")
    return "\n\n".join(lines)


@periodic("documents.sweep_stuck", timedelta(minutes=5))
async def sweep_stuck(jc: JobContext) -> None:
    """Queue again documents left `queued` with no job on its way, and fail those whose
    ingestion died without a trace (no run will retry it), so none waits forever."""
    now = jc.services.clock.now()
    async with jc.db.transaction() as session:
        stale = list(
            await session.scalars(
                select(Document.id).where(
                    Document.status == QUEUED, Document.updated_at < now - QUEUED_STALE_AFTER
                )
            )
        )
    for document_id in stale:
        async with jc.db.transaction() as session:
            if await requeue_stale(session, jc.services.jobs, document_id):
                log.warning(
                    "document %s was left queued; its ingestion is queued again", document_id
                )
    async with jc.db.transaction() as session:
        stuck = list(
            await session.scalars(
                select(Document.id).where(
                    Document.status == PROCESSING, Document.updated_at < now - STUCK_AFTER
                )
            )
        )
    for document_id in stuck:
        async with jc.db.transaction() as session:
            if await ingestion_pending(session, document_id):
                continue  # a run still holds (or will take) it
            await mark_failed(
                session,
                document_id,
                "Reading this document was interrupted. Send the file again.",
                jc.services.clock.now(),
            )


REEMBED_BATCH = 256
REEMBED_BATCHES_PER_RUN = 20


@periodic("documents.sweep_reembed", timedelta(minutes=5))
async def sweep_reembed(jc: JobContext) -> None:
    """Embed chunks that have no vector from the configured model (the model changed, or
    embeddings were switched on), a bounded number of batches per run."""
    embedder = embedder_for(jc.services)
    if embedder is None:
        return
    for _ in range(REEMBED_BATCHES_PER_RUN):
        async with jc.db.transaction() as session:
            rows = (
                await session.execute(
                    select(Chunk.id, Chunk.section, Chunk.text)
                    .where(Chunk.embedding_model.is_distinct_from(embedder.model))
                    .order_by(Chunk.id)
                    .limit(REEMBED_BATCH)
                )
            ).all()
        if not rows:
            return
        drafts = [ChunkDraft(0, row.text, None, row.section) for row in rows]
        vectors = await embedder.embed([_indexed_text(d) for d in drafts])
        async with jc.db.transaction() as session:
            await set_embeddings(session, [row.id for row in rows], vectors, embedder.model)
