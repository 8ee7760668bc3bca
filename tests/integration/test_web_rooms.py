"""The room page: members, today's minutes, the leaderboard and the running focus session,
live over a WebSocket fed by the room's Redis channel; Join / Leave / Stop for members
only. The app runs in uvicorn (the WebSocket needs a real server) on the test's loop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from api.app import create_app
from core.clock import FixedClock
from core.db.counting import counting
from core.identity.models import Room
from core.outbox.models import OutboxMessage
from core.rooms.models import FocusSession
from core.settings import Settings
from teddy.cli_up import free_port
from teddy.http_server import http_server
from teddy.runtime import Runtime
from tests.integration.test_rooms_focus import sweep
from tests.integration.test_web import csrf_of, sign_up


@pytest.fixture
async def served(core: Runtime, settings: Settings) -> AsyncIterator[str]:
    app: FastAPI = create_app(settings, core)
    port = free_port()
    server = http_server(app, "127.0.0.1", port)
    task = asyncio.create_task(server.serve())
    for _ in range(1000):  # uvicorn says when it listens only through this flag
        if server.started:
            break
        await asyncio.sleep(0.02)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    await task
    await app.state.web.redis.aclose()


async def sign_up_linked(client: httpx.AsyncClient, chat: Any, email: str) -> None:
    """Sign up, then link the chat person's account to this one (/link)."""
    code = (await chat.say("/link")).split("code: ")[1].split(" ")[0]
    await sign_up(client, email)
    token = await csrf_of(client, "/link")
    assert (await client.post("/link", data={"csrf": token, "code": code})).status_code == 303


async def room_id_of(core: Runtime) -> int:
    async with core.db.transaction() as session:
        found = await session.scalar(select(Room.id))
    assert found is not None
    return found


def live_socket(base: str, client: httpx.AsyncClient, room_id: int) -> Any:
    cookie = f"teddy_session={client.cookies['teddy_session']}"
    return connect(
        f"ws://{base}/rooms/{room_id}/live",
        additional_headers={"Cookie": cookie, "Origin": f"http://{base}"},
    )


async def next_panel(socket: ClientConnection) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
    return data


async def act(client: httpx.AsyncClient, room_id: int, focus_id: str, action: str) -> int:
    token = await csrf_of(client, f"/rooms/{room_id}")
    sent = await client.post(f"/rooms/{room_id}/focus/{focus_id}/{action}", data={"csrf": token})
    return sent.status_code


async def test_the_focus_session_changes_live_and_members_join_and_stop_from_the_page(
    served: str, core: Runtime, make_chat: Any, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    ann, bob = make_chat("ann", room="g1"), make_chat("bob", room="g1")
    await ann.say("/room")
    await bob.say("/room")
    room_id = await room_id_of(core)
    async with httpx.AsyncClient(base_url=f"http://{served}") as web:
        await sign_up_linked(web, make_chat("ann"), "ann@example.org")
        page = await web.get(f"/rooms/{room_id}")
        assert page.status_code == 200 and "No focus session is running" in page.text
        assert '<ul class="list" id="members"><li>' in page.text
        async with live_socket(served, web, room_id) as socket:
            hello = await next_panel(socket)
            assert hello["type"] == "hello" and hello["phase"] is None
            await bob.send("/focus 25")
            started = await next_panel(socket)
            assert started["type"] == "focus.started" and started["phase"] == "focus"
            assert 'id="focus-join"' in started["html"] and "In (1)" in started["html"]
            focus_id = started["html"].split("/focus/")[1].split("/")[0]

            assert await act(web, room_id, focus_id, "join") == 303
            joined = await next_panel(socket)
            assert joined["type"] == "focus.joined" and "In (2)" in joined["html"]
            assert 'id="focus-leave"' in joined["html"]
            async with core.db.transaction() as session:
                edits = await session.scalars(
                    select(OutboxMessage.text).where(OutboxMessage.live_id == f"focus-{focus_id}")
                )
                assert any("In (2)" in text for text in edits)  # the chat's message follows

            clock.advance(timedelta(minutes=25))
            await sweep(core)
            phase = await next_panel(socket)
            assert phase["type"] == "focus.phase" and phase["phase"] == "break"
            assert "Break" in phase["html"] and "50 min" in phase["html"]  # 25 min each, today

            assert await act(web, room_id, focus_id, "stop") == 303
            ended = await next_panel(socket)
            assert ended["type"] == "focus.ended" and ended["phase"] is None
            assert "No focus session is running" in ended["html"]
        await asyncio.sleep(0.5)  # the server notices the page went away
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # a closed page is normal


async def test_a_stranger_can_neither_see_nor_act_on_the_room(
    served: str, core: Runtime, make_chat: Any
) -> None:
    bob = make_chat("bob", room="g1")
    await bob.say("/room")
    started = await bob.send("/focus 25")
    focus_id = started[0].live_id.split("-")[1]  # type: ignore[union-attr]
    room_id = await room_id_of(core)
    async with httpx.AsyncClient(base_url=f"http://{served}") as stranger:
        await sign_up(stranger, "cid@example.org", "Cid")
        assert (await stranger.get(f"/rooms/{room_id}")).status_code == 404
        assert "g1" not in (await stranger.get("/rooms")).text
        token = await csrf_of(stranger, "/rooms")
        for action in ("join", "stop"):
            sent = await stranger.post(
                f"/rooms/{room_id}/focus/{focus_id}/{action}", data={"csrf": token}
            )
            assert sent.status_code == 404
        started = await stranger.post(
            f"/rooms/{room_id}/focus", data={"csrf": token, "minutes": "25"}
        )
        assert started.status_code == 404
        with pytest.raises(ConnectionClosed) as closed:
            async with live_socket(served, stranger, room_id) as socket:
                await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    status = await bob.say("/room")
    assert "Cid" not in status and "In (1)" in status  # nothing the stranger sent counted


async def test_a_member_starts_a_focus_session_from_the_page_under_the_chats_rules(
    served: str, core: Runtime, make_chat: Any
) -> None:
    ann, bob = make_chat("ann", room="g1"), make_chat("bob", room="g1")
    await ann.say("/room")
    await bob.say("/room")
    room_id = await room_id_of(core)
    base = f"http://{served}"
    async with httpx.AsyncClient(base_url=base) as web, httpx.AsyncClient(base_url=base) as web2:
        await sign_up_linked(web, make_chat("ann"), "ann@example.org")
        await sign_up_linked(web2, make_chat("bob"), "bob@example.org")
        page = await web.get(f"/rooms/{room_id}")
        assert 'id="focus-start"' in page.text and 'name="minutes"' in page.text
        async with live_socket(served, web2, room_id) as socket:
            assert (await next_panel(socket))["phase"] is None
            token = await csrf_of(web, f"/rooms/{room_id}")
            form = {"csrf": token, "minutes": "50", "break": "10", "subject": "chem"}
            sent = await web.post(f"/rooms/{room_id}/focus", data=form)
            assert sent.status_code == 303 and sent.headers["location"] == f"/rooms/{room_id}"
            started = await next_panel(socket)  # the other member's page, live
            assert started["type"] == "focus.started" and started["phase"] == "focus"
            assert "50 min focus, 10 min break" in started["html"]
            assert "In (1): Ana" in started["html"] and 'id="focus-join"' in started["html"]
        shown = (await web.get(f"/rooms/{room_id}")).text
        assert 'id="focus-leave"' in shown and 'id="focus-start"' not in shown

        # A second start meets the chat's own rule and message; the typed values stay.
        token = await csrf_of(web2, f"/rooms/{room_id}")
        again = await web2.post(
            f"/rooms/{room_id}/focus", data={"csrf": token, "minutes": "30", "break": "5"}
        )
        assert again.status_code == 400
        assert "already running here: press Join" in again.text
    async with core.db.transaction() as session:
        focus = await session.scalar(select(FocusSession).where(FocusSession.room_id == room_id))
        assert focus is not None
        assert (focus.focus_minutes, focus.break_minutes, focus.subject) == (50, 10, "chem")
        sent_to_chat = await session.scalar(
            select(OutboxMessage.text).where(
                OutboxMessage.live_id == f"focus-{focus.id}", OutboxMessage.room_id == room_id
            )
        )
    assert sent_to_chat is not None and "50 min focus" in sent_to_chat  # the group sees it
    status = await bob.say("/room")
    assert "running now" in status and "In (1): Ana" in status
    assert "already running here" in await bob.say("/focus 25")  # one session, wherever started


async def test_a_refused_start_keeps_the_typed_values_and_says_what_chat_says(
    served: str, core: Runtime, make_chat: Any
) -> None:
    ann = make_chat("ann", room="g1")
    await ann.say("/room")
    room_id = await room_id_of(core)
    async with httpx.AsyncClient(base_url=f"http://{served}") as web:
        await sign_up_linked(web, make_chat("ann"), "ann@example.org")
        token = await csrf_of(web, f"/rooms/{room_id}")
        for form, said in (
            ({"minutes": "500", "break": "5"}, "A focus phase lasts 1 to 180 minutes."),
            ({"minutes": "25", "break": "99"}, "A break lasts 0 to 60 minutes."),
            ({"minutes": "25", "break": "5", "subject": "c#em!"}, "letters, digits or dashes"),
        ):
            refused = await web.post(f"/rooms/{room_id}/focus", data={"csrf": token, **form})
            assert refused.status_code == 400 and said in refused.text, refused.text
            assert f'name="minutes" min="1" max="180" value="{form["minutes"]}"' in refused.text
        assert "No focus session is running" in (await web.get(f"/rooms/{room_id}")).text
        missing = await web.post("/rooms/999999/focus", data={"csrf": token, "minutes": "25"})
        assert missing.status_code == 404
    assert "no focus session running" in await ann.say("/room")


async def test_the_room_page_is_one_transaction(served: str, core: Runtime, make_chat: Any) -> None:
    await make_chat("ann", room="g1").say("/room")
    room_id = await room_id_of(core)
    async with httpx.AsyncClient(base_url=f"http://{served}") as web:
        await sign_up_linked(web, make_chat("ann"), "ann@example.org")
        await web.get(f"/rooms/{room_id}")  # warm caches
        with counting(core.db.engine) as count:
            page = await web.get(f"/rooms/{room_id}")
    assert page.status_code == 200 and count.transactions == 1, count.texts
