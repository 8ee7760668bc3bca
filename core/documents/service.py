"""Documents: intake, listing, deletion and (re)indexing of chunks. All scoping is here."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.rollup import record
from core.documents.extraction import ExtractionError, sniff
from core.documents.indexing import remove_chunks
from core.documents.models import (
    FAILED,
    QUEUED,
    Document,
    DocumentFile,
)
from core.documents.retrieval import room_scope, user_scope
from core.errors import BadInput, Forbidden, NotFound
from core.identity.models import Room, User
from core.identity.service import is_member
from core.jobs import JobQueue, enqueue_after_commit
from core.maintenance import pending

INGEST_JOB = "documents.ingest"


def owner_scope(user: User, room: Room | None) -> str:
    """A file sent in a room belongs to the room; in a direct chat, to the user."""
    return room_scope(room.id) if room is not None else user_scope(user.id)


async def receive_file(
    session: AsyncSession,
    *,
    user: User,
    room: Room | None,
    name: str,
    data: bytes,
    max_bytes: int,
) -> tuple[Document, bool]:
    """Register an uploaded file for ingestion. Returns the document and whether it is new
    (False when the same content was already uploaded to this owner)."""
    name = (name.strip() or "document").replace("/", "_")[:300]
    if len(data) > max_bytes:
        raise BadInput(
            f"{name} is {len(data) / 1_048_576:.1f} MB; the limit is {max_bytes // 1_048_576} MB."
        )
    try:
        kind = sniff(data, name)
    except ExtractionError as err:
        raise BadInput(err.message) from err
    scope = owner_scope(user, room)
    digest = hashlib.sha256(data).hexdigest()
    existing = await session.scalar(
        select(Document).where(Document.scope == scope, Document.content_hash == digest)
    )
    if existing is not None:
        return existing, False
    document = Document(
        scope=scope,
        owner_user_id=user.id if room is None else None,
        owner_room_id=room.id if room is not None else None,
        uploaded_by=user.id,
        title=name,
        kind=kind,
        content_hash=digest,
        size_bytes=len(data),
        status=QUEUED,
        summary="",
        key_concepts=[],
        chunk_count=0,
        ingest_runs=0,
    )
    session.add(document)
    await session.flush()
    if room is None:  # stamped by the database's now()
        await record(session, user.id, None, documents_added=1)
    session.add(DocumentFile(document_id=document.id, data=data))
    return document, True


async def submit_file(
    session: AsyncSession,
    queue: JobQueue,
    *,
    user: User,
    room: Room | None,
    name: str,
    data: bytes,
    max_bytes: int,
) -> tuple[Document, bool]:
    """Register a file and queue its ingestion once the transaction commits (chat and web
    uploads both come here). Returns the document and whether ingestion was queued: False
    when the same content is already there (a failed one is retried)."""
    document, new = await receive_file(
        session, user=user, room=room, name=name, data=data, max_bytes=max_bytes
    )
    if not new and document.status != FAILED:
        return document, False
    await enqueue_after_commit(session, queue, INGEST_JOB, document_id=document.id)
    return document, True


async def ingestion_pending(session: AsyncSession, document_id: int) -> bool:
    """Whether an ingestion job of the document is still on its way (or running)."""
    return await pending.unfinished(
        session, INGEST_JOB, lambda kwargs: kwargs["document_id"].as_integer() == document_id
    )


async def requeue_stale(session: AsyncSession, queue: JobQueue, document_id: int) -> bool:
    """Queue the ingestion of a document left `queued` (its job was lost: recorded before
    jobs were, or closed without reading it) unless a job for it is still on its way."""
    document = await session.get(Document, document_id, with_for_update=True)
    if document is None or document.status != QUEUED:
        return False
    if await ingestion_pending(session, document_id):
        return False
    document.updated_at = func.now()
    await enqueue_after_commit(session, queue, INGEST_JOB, document_id=document.id)
    return True


def listing_scope(user: User, room: Room | None) -> str:
    """/docs in a direct chat lists the user's documents; in a room, the room's (so a
    private document's title is never shown to the group)."""
    return owner_scope(user, room)


async def visible_documents(session: AsyncSession, user: User, room: Room | None) -> list[Document]:
    if room is not None and not await is_member(session, room.id, user.id):
        raise Forbidden("Only members of this room can see its documents.")
    rows = await session.scalars(
        select(Document)
        .where(Document.scope == listing_scope(user, room))
        .order_by(Document.created_at, Document.id)
    )
    return list(rows)


async def document_at(
    session: AsyncSession, user: User, room: Room | None, number: int
) -> Document:
    """The `number`-th document of /docs (1-based)."""
    documents = await visible_documents(session, user, room)
    if not 1 <= number <= len(documents):
        if not documents:
            raise NotFound("You have no documents yet. Send me a PDF, DOCX, TXT or MD file.")
        raise NotFound(f"There is no document {number}; /docs lists 1 to {len(documents)}.")
    return documents[number - 1]


async def delete_document(session: AsyncSession, user: User, room: Room | None, number: int) -> str:
    """Delete a document with its chunks, vectors and statistics; returns its title. In a
    room, only the member who uploaded it may delete it."""
    document = await document_at(session, user, room, number)
    if room is not None and document.uploaded_by != user.id:
        raise Forbidden("Only the member who shared this document can delete it.")
    return await _delete(session, document)


async def own_document(session: AsyncSession, user: User, document_id: int) -> Document:
    """One of the user's own documents by id; anyone else's, a room's or a missing one is
    NotFound alike."""
    document = await session.scalar(
        select(Document).where(
            Document.id == document_id, Document.scope == owner_scope(user, None)
        )
    )
    if document is None:
        raise NotFound("That document doesn't exist.")
    return document


async def delete_own_document(session: AsyncSession, user: User, document_id: int) -> str:
    """Delete one of the user's own documents by id (REST, web). Returns its title."""
    return await _delete(session, await own_document(session, user, document_id))


async def _delete(session: AsyncSession, document: Document) -> str:
    title = document.title
    if document.owner_user_id is not None:
        await record(session, document.owner_user_id, document.created_at, documents_added=-1)
    await _lock_document(session, document.id)
    await remove_chunks(session, document)
    await session.delete(document)
    await session.flush()
    return title


async def _lock_document(session: AsyncSession, document_id: int) -> None:
    await session.execute(select(Document.id).where(Document.id == document_id).with_for_update())


async def document_bytes(session: AsyncSession, document_id: int) -> bytes | None:
    return await session.scalar(
        select(DocumentFile.data).where(DocumentFile.document_id == document_id)
    )


async def mark_failed(session: AsyncSession, document_id: int, message: str, now: datetime) -> None:
    """Fail the document: no chunks left behind, the reason kept for /doc."""
    document = await session.get(Document, document_id, with_for_update=True)
    if document is None:
        return
    await remove_chunks(session, document)
    document.status = FAILED
    document.error = message[:1000]
    document.chunk_count = 0
    document.processed_at = now
