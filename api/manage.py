"""Management pages over the capabilities' services: tasks, decks, documents, and the
private calendar feed. Every rule stays in the services; this only turns forms into calls."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from api.pages import page
from api.web import CurrentUser, SignedIn, Tx, state
from core.flashcards import service as flashcards
from core.identity import service as identity
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
async def decks_page(request: Request, who: SignedIn, user: CurrentUser, session: Tx) -> Response:
    decks = await flashcards.list_decks(session, user, state(request).now())
    return page(request, "decks.html", who=who, csrf=who.csrf_token, decks=decks)


# Rooms -------------------------------------------------------------------------------


@router.get("/rooms")
async def rooms_page(request: Request, who: SignedIn, user: CurrentUser, session: Tx) -> Response:
    rooms = await identity.rooms_of(session, user.id)
    ranked = await room_service.leaderboards(session, rooms, user, "week", state(request).now())
    boards = [(room, ranked[room.id]) for room in rooms]
    return page(request, "rooms.html", who=who, boards=boards)
