"""A study room's page for its members: members, today's minutes, this week's leaderboard
and the running focus session with Join / Leave / Stop, kept live over a WebSocket fed by
the room's Redis pub/sub channel (the one the chat adapters' live messages use)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request, WebSocket
from fastapi.responses import Response
from starlette.websockets import WebSocketDisconnect

from api.pages import page, see_other
from api.web import (
    SESSION_COOKIE,
    RowId,
    Viewer,
    WebState,
    check_csrf,
    load_user,
    state,
    templates,
    viewer,
)
from core.accounts import service as accounts
from core.errors import NotFound, TeddyError
from core.identity.models import User
from core.rooms import remote
from core.rooms.pubsub import RedisRoomEvents, RoomSubscription
from core.rooms.service import minutes_left, room_zone

router = APIRouter(include_in_schema=False)
# A quiet room still gets a fresh panel this often (the countdown's minutes move).
REFRESH_SECONDS = 30.0
NOT_ALLOWED = 4403  # WebSocket close codes 4000-4999 are the application's own


def panel_context(panel: remote.RoomPanel, now: datetime) -> dict[str, Any]:
    running = panel.running
    focus: dict[str, Any] | None = None
    if running is not None:
        f = running.focus
        focus = {
            "id": f.id,
            "phase": f.phase,
            "minutes_left": minutes_left(f.phase_ends_at, now),
            "until": f.phase_ends_at.astimezone(room_zone(panel.status.room)).strftime("%H:%M"),
            "ends_at": f.phase_ends_at.isoformat(),
            "present": running.present,
            "plan": f"{f.focus_minutes} min focus, {f.break_minutes} min break",
        }
    return {"panel": panel, "room": panel.status.room, "focus": focus}


async def _panel(web: WebState, user_id: int, room_id: int) -> dict[str, Any]:
    async with web.transaction() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("Sign in again.")
        now = web.now()
        return panel_context(await remote.room_panel(session, user, room_id, now), now)


@router.get("/rooms/{room_id}")
async def room_page(request: Request, room_id: RowId, who: Viewer = Depends(viewer)) -> Response:
    context = await _panel(state(request), who.user_id, room_id)
    return page(request, "room.html", who=who, csrf=who.csrf_token, **context)


@router.post("/rooms/{room_id}/focus/{focus_id}/{action}")
async def act(
    request: Request, room_id: RowId, focus_id: RowId, action: str, who: Viewer = Depends(viewer)
) -> Response:
    await check_csrf(request, who.csrf_token)
    web = state(request)
    async with web.transaction() as session:
        user = await load_user(session, who)
        await remote.act_on_focus(
            session, web.core.services, user, room_id, focus_id, action, web.now()
        )
    return see_other(f"/rooms/{room_id}")


def render_panel(context: dict[str, Any], csrf: str) -> str:
    return templates.get_template("room_live.html").render(csrf=csrf, **context)


async def _member_viewer(websocket: WebSocket, web: WebState, room_id: int) -> Viewer | None:
    """The signed-in member behind this socket, or None (a stranger, another site)."""
    origin = websocket.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != websocket.headers.get("host"):
        return None
    token = websocket.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    async with web.transaction() as session:
        found = await accounts.web_session_user(session, token, web.now())
        if found is None:
            return None
        user, row = found
        try:
            await remote.member_room(session, user, room_id)
        except TeddyError:
            return None
        return Viewer(user.id, user.display_name, row.csrf_token, token)


@router.websocket("/rooms/{room_id}/live")
async def live(websocket: WebSocket, room_id: int) -> None:
    """Sends `{"type", "html"}` with the room's panel: at once, then after every room
    event (and every REFRESH_SECONDS without one)."""
    web: WebState = websocket.app.state.web
    who = await _member_viewer(websocket, web, room_id)
    if who is None:
        # Accepted first so the page reads the reason (a refused handshake is just 403).
        await websocket.accept()
        await websocket.close(code=NOT_ALLOWED)
        return
    events = web.core.services.room_events
    subscription = (
        await events.subscribe([room_id]) if isinstance(events, RedisRoomEvents) else None
    )
    await websocket.accept()
    gone = asyncio.create_task(_until_closed(websocket))
    try:
        await _send(websocket, web, who, room_id, "hello")
        while not gone.done():
            kind = await _next_event(subscription, gone)
            if kind is not None:
                await _send(websocket, web, who, room_id, kind)
    except (WebSocketDisconnect, RuntimeError, TeddyError):
        pass  # the page went away, or its user left the room
    finally:
        gone.cancel()
        if subscription is not None:
            await subscription.close()
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close()  # the page may have closed it already


async def _until_closed(websocket: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await websocket.receive_text()


async def _next_event(
    subscription: RoomSubscription | None, gone: asyncio.Task[None]
) -> str | None:
    """The next room event's type; "refresh" after a quiet spell; None once the page left."""
    if subscription is None:
        await asyncio.wait([gone], timeout=REFRESH_SECONDS)
        return None if gone.done() else "refresh"
    waiting = asyncio.create_task(subscription.next(REFRESH_SECONDS))
    await asyncio.wait([waiting, gone], return_when=asyncio.FIRST_COMPLETED)
    if not waiting.done():
        waiting.cancel()
        return None
    event = waiting.result()
    return event.type if event is not None else "refresh"


async def _send(websocket: WebSocket, web: WebState, who: Viewer, room_id: int, kind: str) -> None:
    context = await _panel(web, who.user_id, room_id)
    html = render_panel(context, who.csrf_token)
    phase = context["focus"]["phase"] if context["focus"] else None
    await websocket.send_text(json.dumps({"type": kind, "phase": phase, "html": html}))
