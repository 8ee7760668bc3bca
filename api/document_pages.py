"""The documents page: upload, each document's summary and key concepts, search with the
matching words marked, and delete after a confirm step (a page of its own, so it works
without JavaScript). Rules and scoping live in core.documents."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from api.highlight import excerpt
from api.pages import page, see_other
from api.web import (
    CurrentUser,
    RowId,
    SignedIn,
    Tx,
    Viewer,
    check_csrf,
    load_user,
    state,
    viewer,
)
from core.documents import jobs as document_jobs
from core.documents import service as documents
from core.documents.embeddings import Embedder, embedder_for
from core.documents.retrieval import Passage, search_passages
from core.errors import TeddyError, WarmUpFirst
from core.identity.models import User
from core.jobs import enqueue_after_commit

router = APIRouter(include_in_schema=False)
MAX_QUERY = 300
RESULTS = 10


async def _render(
    request: Request,
    session: AsyncSession,
    user: User,
    who: Viewer,
    status: int = 200,
    **extra: object,
) -> Response:
    rows = await documents.visible_documents(session, user, None)
    return page(
        request, "documents.html", status, who=who, csrf=who.csrf_token, documents=rows, **extra
    )


async def _documents_page(
    request: Request, who: Viewer, status: int = 200, **extra: object
) -> Response:
    async with state(request).transaction() as session:
        user = await load_user(session, who)
        return await _render(request, session, user, who, status, **extra)


@router.get("/documents")
async def documents_page(
    request: Request, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    return await _render(request, session, user, who)


@router.post("/documents")
async def upload_document(request: Request, who: Viewer = Depends(viewer)) -> Response:
    await check_csrf(request, who.csrf_token)
    web = state(request)
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _documents_page(request, who, 400, error="Choose a file to upload.")
    max_bytes = web.settings.max_upload_mb * 1_048_576
    data = await upload.read(max_bytes + 1)
    try:
        async with web.transaction() as session:
            user = await load_user(session, who)
            document, new = await documents.receive_file(
                session, user=user, room=None, name=upload.filename, data=data, max_bytes=max_bytes
            )
            if new:
                await enqueue_after_commit(
                    session, web.core.services.jobs, document_jobs.INGEST, document_id=document.id
                )
    except TeddyError as err:
        return await _documents_page(request, who, 400, error=err.plain)
    return see_other("/documents")


@router.get("/documents/status")
async def documents_status(request: Request, who: Viewer = Depends(viewer)) -> Response:
    """Each own document's ingestion status (documents.js polls it while one is being read)."""
    async with state(request).transaction() as session:
        user = await load_user(session, who)
        rows = await documents.visible_documents(session, user, None)
        listed = [
            {"id": d.id, "status": d.status, "pages": d.pages, "chunks": d.chunk_count}
            for d in rows
        ]
    return JSONResponse({"documents": listed})


@router.get("/documents/search")
async def search_documents(
    request: Request, q: str = "", who: Viewer = Depends(viewer)
) -> Response:
    web = state(request)
    query = q.strip()[:MAX_QUERY]
    if not query:
        return see_other("/documents")
    embedder = embedder_for(web.core.services)
    try:
        passages = await _search(request, who, query, embedder)
    except WarmUpFirst as cold:
        # Load the model holding no database connection, then search again.
        await cold.warm_up()
        passages = await _search(request, who, query, embedder)
    results = [(passage, excerpt(passage.text, query)) for passage in passages]
    return page(request, "document_search.html", who=who, query=query, results=results)


async def _search(
    request: Request, who: Viewer, query: str, embedder: Embedder | None
) -> list[Passage]:
    async with state(request).transaction() as session:
        return await search_passages(
            session,
            user_id=who.user_id,
            room_id=None,
            query=query,
            limit=RESULTS,
            embedder=embedder,
        )


@router.get("/documents/{document_id}/delete")
async def confirm_delete(
    request: Request, document_id: RowId, who: Viewer = Depends(viewer)
) -> Response:
    async with state(request).transaction() as session:
        user = await load_user(session, who)
        document = await documents.own_document(session, user, document_id)
        return page(
            request, "document_delete.html", who=who, csrf=who.csrf_token, document=document
        )


@router.post("/documents/{document_id}/delete")
async def delete_document(
    request: Request, document_id: RowId, who: Viewer = Depends(viewer)
) -> Response:
    await check_csrf(request, who.csrf_token)
    async with state(request).transaction() as session:
        user = await load_user(session, who)
        await documents.delete_own_document(session, user, document_id)
    return see_other("/documents?deleted=1")
