"""A study room's page for its members: members, today's minutes, this week's leaderboard
and the focus session (Start when none runs; Join / Leave / Stop), kept live over a
WebSocket fed by the room's Redis pub/sub channel (the one the chat adapters' live
messages use)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocketDisconnect

from api.pages import page, see_other
from api.web import (
    SESSION_COOKIE,
    CurrentUser,
    RowId,
    SignedIn,
    Tx,
    Viewer,
    WebState,
    check_csrf,
    state,
    templates,
)
from core.accounts import service as accounts
from core.errors import BadInput, NotFound, TeddyError
from core.identity.models import User
from core.rooms import remote
from core.rooms import service as rooms
from core.rooms.models import SUBJECT_MAX
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
    return {
        "panel": panel,
        "room": panel.status.room,
        "focus": focus,
        # The start form's bounds and defaults: the chat's `/focus` ones.
        "default_focus": rooms.DEFAULT_FOCUS_MINUTES,
        "default_break": rooms.DEFAULT_BREAK_MINUTES,
        "max_focus": rooms.MAX_FOCUS_MINUTES,
        "max_break": rooms.MAX_BREAK_MINUTES,
        "max_subject": SUBJECT_MAX,
    }


async def _panel_of(
    session: AsyncSession, user: User, room_id: int, now: datetime
) -> dict[str, Any]:
    return panel_context(await remote.room_panel(session, user, room_id, now), now)


async def _panel(web: WebState, user_id: int, room_id: int) -> dict[str, Any]:
    async with web.transaction() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound("Sign in again.")
        return await _panel_of(session, user, room_id, web.now())


@router.get("/rooms/{room_id}")
async def room_page(
    request: Request, room_id: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    context = await _panel_of(session, user, room_id, state(request).now())
    return page(request, "room.html", who=who, csrf=who.csrf_token, **context)


FOCUS_FIELDS = ("minutes", "break", "subject")


def focus_args(form: dict[str, str]) -> str:
    """The start form's fields as the chat's `/focus` arguments (`25 5 #chem`)."""
    minutes = form.get("minutes", "").strip() or str(rooms.DEFAULT_FOCUS_MINUTES)
    pause = form.get("break", "").strip() or str(rooms.DEFAULT_BREAK_MINUTES)
    subject = form.get("subject", "").strip()
    if subject and not subject.startswith("#"):
        subject = "#" + subject
    return " ".join(part for part in (minutes, pause, subject) if part)


@router.post("/rooms/{room_id}/focus")
async def start(
    request: Request, room_id: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    """Start the room's focus session, as `/focus` in its group chat would."""
    form = await check_csrf(request, who.csrf_token)
    typed = {name: str(form.get(name, ""))[:100] for name in FOCUS_FIELDS}
    web = state(request)
    try:
        async with session.begin_nested():
            await remote.start_focus(
                session, web.core.services, user, room_id, focus_args(typed), web.now()
            )
    except BadInput as err:
        context = await _panel_of(session, user, room_id, web.now())
        return page(
            request,
            "room.html",
            400,
            who=who,
            csrf=who.csrf_token,
            error=err.plain,
            typed=typed,
            **context,
        )
    return see_other(f"/rooms/{room_id}")


@router.post("/rooms/{room_id}/focus/{focus_id}/{action}")
async def act(
    request: Request,
    room_id: RowId,
    focus_id: RowId,
    action: str,
    who: SignedIn,
    user: CurrentUser,
    session: Tx,
) -> Response:
    await check_csrf(request, who.csrf_token)
    web = state(request)
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
