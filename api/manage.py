"""Management pages over the capabilities' services: tasks, decks, documents, and the
private calendar feed. Every rule stays in the services; this only turns forms into calls."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from api.pages import page, see_other
from api.web import RowId, Viewer, check_csrf, load_user, state, viewer
from core.documents import jobs as document_jobs
from core.documents import service as documents
from core.errors import TeddyError
from core.flashcards import service as flashcards
from core.identity.models import Membership, Room
from core.jobs import enqueue_after_commit
from core.rooms import service as room_service
from core.tasks import service as tasks

router = APIRouter(include_in_schema=False)


@router.get("/calendar/{token}.ics")
async def calendar(request: Request, token: str) -> Response:
    async with state(request).transaction() as session:
        feed = await tasks.calendar_feed(session, token)
    if feed is None:
        raise HTTPException(404, "No such calendar.")
    return Response(feed, media_type="text/calendar; charset=utf-8")


# Decks -------------------------------------------------------------------------------


@router.get("/decks")
async def decks_page(request: Request, who: Viewer = Depends(viewer)) -> Response:
    web = state(request)
    async with web.transaction() as session:
        user = await load_user(session, who)
        decks = await flashcards.list_decks(session, user, web.now())
    return page(request, "decks.html", who=who, decks=decks)


# Rooms -------------------------------------------------------------------------------


@router.get("/rooms")
async def rooms_page(request: Request, who: Viewer = Depends(viewer)) -> Response:
    web = state(request)
    async with web.transaction() as session:
        user = await load_user(session, who)
        rooms = await session.scalars(
            select(Room)
            .join(Membership, Membership.room_id == Room.id)
            .where(Membership.user_id == who.user_id)
            .order_by(Room.title, Room.id)
        )
        boards = [
            (room, await room_service.leaderboard(session, room, user, "week", web.now()))
            for room in rooms
        ]
    return page(request, "rooms.html", who=who, boards=boards)


# Documents ---------------------------------------------------------------------------


async def _documents_page(
    request: Request, who: Viewer, status: int = 200, **extra: object
) -> Response:
    async with state(request).transaction() as session:
        user = await load_user(session, who)
        rows = await documents.visible_documents(session, user, None)
        return page(
            request,
            "documents.html",
            status,
            who=who,
            csrf=who.csrf_token,
            documents=rows,
            **extra,
        )


@router.get("/documents")
async def documents_page(request: Request, who: Viewer = Depends(viewer)) -> Response:
    return await _documents_page(request, who)


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
        return await _documents_page(request, who, 400, error=err.message)
    return see_other("/documents")


@router.post("/documents/{number}/delete")
async def delete_document(
    request: Request, number: RowId, who: Viewer = Depends(viewer)
) -> Response:
    await check_csrf(request, who.csrf_token)
    async with state(request).transaction() as session:
        user = await load_user(session, who)
        await documents.delete_document(session, user, None, number)
    return see_other("/documents")
