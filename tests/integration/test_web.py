"""The web companion through HTTP: sign-in, CSRF, sessions, headers, health, REST scoping."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from core.settings import Settings
from teddy.runtime import Runtime
from tests.support.chat_driver import ChatDriver

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PASSWORD = "correct horse battery"


@pytest.fixture
async def app(core: Runtime, settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, core)
    await application.state.web.redis.flushdb()
    yield application
    await application.state.web.redis.aclose()


def browser(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


async def sign_up(client: httpx.AsyncClient, email: str, name: str = "Ana") -> httpx.Response:
    token = await csrf_of(client, "/signup")
    return await client.post(
        "/signup", data={"csrf": token, "email": email, "password": PASSWORD, "name": name}
    )


async def new_api_token(client: httpx.AsyncClient, **extra: str) -> str:
    """A token made on the settings page: read and write, unless `extra` form fields say more."""
    token = await csrf_of(client, "/settings")
    form = {"csrf": token, "name": "script", "scope:read": "1", "scope:write": "1", **extra}
    page = await client.post("/tokens", data=form)
    found = re.search(r'id="new-token">([^<]+)<', page.text)
    assert found, page.text
    return found.group(1)


async def test_sign_up_then_dashboard_and_sign_in_again(app: FastAPI) -> None:
    async with browser(app) as client:
        made = await sign_up(client, "ana@example.org")
        assert made.status_code == 303 and made.headers["location"] == "/dashboard"
        cookie = made.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        dash = await client.get("/dashboard")
        assert dash.status_code == 200 and "Hi Ana" in dash.text
        assert 'id="activity-chart"' in dash.text
    async with browser(app) as fresh:
        assert (await fresh.get("/dashboard")).headers["location"] == "/login"
        token = await csrf_of(fresh, "/login")
        wrong = await fresh.post(
            "/login", data={"csrf": token, "email": "ana@example.org", "password": "nope-nope-no"}
        )
        assert wrong.status_code == 401
        right = await fresh.post(
            "/login", data={"csrf": token, "email": "ANA@example.org", "password": PASSWORD}
        )
        assert right.status_code == 303
        assert (await fresh.get("/dashboard")).status_code == 200


async def test_posts_without_the_csrf_token_are_rejected(app: FastAPI) -> None:
    async with browser(app) as client:
        await csrf_of(client, "/login")
        no_token = await client.post("/login", data={"email": "a@b.co", "password": "x"})
        assert no_token.status_code == 403
        await sign_up(client, "csrf@example.org")
        assert (await client.post("/settings", data={"timezone": "Asia/Tokyo"})).status_code == 403
        forged = await client.post("/delete-account", data={"csrf": "guess", "confirm": "DELETE"})
        assert forged.status_code == 403
        assert (await client.get("/dashboard")).status_code == 200


async def test_sign_in_is_rate_limited(app: FastAPI, settings: Settings) -> None:
    async with browser(app) as client:
        token = await csrf_of(client, "/login")
        codes = [
            (
                await client.post(
                    "/login", data={"csrf": token, "email": "x@example.org", "password": "bad"}
                )
            ).status_code
            for _ in range(settings.signin_rate_per_minute + 2)
        ]
    assert codes[0] == 401 and codes[-1] == 429


async def test_sign_out_everywhere_ends_every_session(app: FastAPI) -> None:
    async with browser(app) as first, browser(app) as second:
        await sign_up(first, "two@example.org")
        token = await csrf_of(second, "/login")
        await second.post(
            "/login", data={"csrf": token, "email": "two@example.org", "password": PASSWORD}
        )
        assert (await second.get("/dashboard")).status_code == 200
        csrf = await csrf_of(first, "/settings")
        await first.post("/logout", data={"csrf": csrf, "everywhere": "1"})
        assert (await second.get("/dashboard")).status_code == 303


async def test_security_headers_health_and_metrics(app: FastAPI) -> None:
    async with browser(app) as client:
        page = await client.get("/login")
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        health = await client.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": "ok", "redis": "ok"}
        metrics = await client.get("/metrics")
        assert 'teddy_http_requests_total{method="GET",route="/login",status="200"}' in metrics.text
        assert (await client.get("/static/chart.umd.min.js")).status_code == 200


async def test_readiness_waits_for_the_embedding_model_a_process_preloads(app: FastAPI) -> None:
    web = app.state.web
    loaded = asyncio.Event()
    loading = asyncio.create_task(loaded.wait())
    web.core = replace(web.core, warm_up=loading)
    async with browser(app) as client:
        assert (await client.get("/healthz")).status_code == 200  # alive meanwhile
        while_loading = await client.get("/readyz")
        assert while_loading.status_code == 503
        assert while_loading.json()["embedding_model"] == "loading"
        loaded.set()
        await loading
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ok",
            "database": "ok",
            "redis": "ok",
            "embedding_model": "ok",
        }


async def test_settings_are_saved_and_bad_input_is_explained(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "set@example.org")
        token = await csrf_of(client, "/settings")
        form = {"csrf": token, "timezone": "asia/tokyo", "quiet": "23:00-06:30", "digest": "08:00"}
        assert (await client.post("/settings", data=form)).status_code == 303
        page = await client.get("/settings")
        assert 'value="Asia/Tokyo"' in page.text and "23:00-06:30" in page.text
        bad = await client.post("/settings", data={**form, "timezone": "Mars/Base"})
        assert bad.status_code == 400 and "Mars/Base" in bad.text


async def test_web_user_links_a_chat_account_with_a_code_from_chat(app: FastAPI, chat) -> None:  # type: ignore[no-untyped-def]
    await chat.say("/settings tz Europe/Paris")
    answer = await chat.say("/link")
    code = answer.split("code: ")[1].split(" ")[0]
    async with browser(app) as client:
        await sign_up(client, "web@example.org")
        token = await csrf_of(client, "/link")
        linked = await client.post("/link", data={"csrf": token, "code": code})
        assert linked.status_code == 303
        page = await client.get("/link?linked=1")
        assert "Linked!" in page.text and "<strong>test</strong>" in page.text
        settings = await client.get("/settings")
        assert "Europe/Paris" in settings.text  # the chat account's profile survived
        again = await client.post("/link", data={"csrf": token, "code": code})
        assert again.status_code == 400 and "not valid" in again.text


async def test_chat_user_enters_a_code_shown_on_the_web(app: FastAPI, chat) -> None:  # type: ignore[no-untyped-def]
    async with browser(app) as client:
        await sign_up(client, "webcode@example.org")
        token = await csrf_of(client, "/link")
        page = await client.post("/link/code", data={"csrf": token})
        code = re.search(r"/link ([A-Z0-9-]+)</code>", page.text)
        assert code
        assert "Linked" in await chat.say(f"/link {code.group(1)}")
        assert "<strong>test</strong>" in (await client.get("/link")).text


async def test_api_needs_a_token_and_answers_only_for_the_caller(app: FastAPI, chat) -> None:  # type: ignore[no-untyped-def]
    async with browser(app) as ana, browser(app) as ben:
        await sign_up(ana, "ana@example.org")
        await sign_up(ben, "ben@example.org", "Ben")
        shown = await ben.post("/link/code", data={"csrf": await csrf_of(ben, "/link")})
        code = re.search(r"/link ([A-Z0-9-]+)</code>", shown.text)
        assert code and "Linked" in await chat.say(f"/link {code.group(1)}")
        powers = {"scope:tokens:create": "1", "scope:link-codes:create": "1", "password": PASSWORD}
        ana_token, ben_token = await new_api_token(ana, **powers), await new_api_token(ben)
        assert (await ana.get("/api/v1/me")).status_code == 401
        api = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        as_ana = {"authorization": f"Bearer {ana_token}"}
        as_ben = {"authorization": f"Bearer {ben_token}"}
        me = (await api.get("/api/v1/me", headers=as_ana)).json()
        assert me["email"] == "ana@example.org"
        ben_tokens = (await api.get("/api/v1/tokens", headers=as_ben)).json()
        ben_token_id = ben_tokens[0]["id"]
        assert (
            await api.delete(f"/api/v1/tokens/{ben_token_id}", headers=as_ana)
        ).status_code == 404
        assert (
            await api.delete(f"/api/v1/identities/{ben_token_id}", headers=as_ana)
        ).status_code == 404
        assert (await api.get("/api/v1/me", headers=as_ben)).json()["email"] == "ben@example.org"
        for path, body in (
            ("/api/v1/tokens", {"name": "a\x00b"}),
            ("/api/v1/link", {"code": "AB\x00CD"}),
        ):
            refused = await api.post(path, json=body, headers=as_ana)
            assert refused.status_code == 422 and "NUL" in refused.text, refused.text
        stats = (await api.get("/api/v1/stats?period=month", headers=as_ana)).json()
        assert len(stats["days"]) == 30
        exported = (await api.get("/api/v1/export", headers=as_ana)).json()
        assert exported["user"]["email"] == "ana@example.org"
        assert "ben@example.org" not in str(exported)
        assert (await api.get("/api/v1/openapi.json")).json()["paths"]["/api/v1/me"]
        await api.aclose()


async def test_web_export_and_account_deletion(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "gone@example.org")
        exported = await client.get("/export.json")
        assert exported.json()["user"]["email"] == "gone@example.org"
        assert "attachment" in exported.headers["content-disposition"]
        token = await csrf_of(client, "/settings")
        unconfirmed = await client.post("/delete-account", data={"csrf": token, "confirm": "no"})
        assert unconfirmed.status_code == 400
        gone = await client.post("/delete-account", data={"csrf": token, "confirm": "DELETE"})
        assert gone.headers["location"] == "/login?deleted=1"
    async with browser(app) as client:
        token = await csrf_of(client, "/login")
        again = await client.post(
            "/login", data={"csrf": token, "email": "gone@example.org", "password": PASSWORD}
        )
        assert again.status_code == 401


async def test_tasks_page_adds_and_completes_a_task(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "tasks@example.org")
        token = await csrf_of(client, "/tasks")
        added = await client.post(
            "/tasks", data={"csrf": token, "text": "Lab report fri 5pm #chem"}
        )
        assert added.status_code == 303
        page = await client.get("/tasks")
        assert "#1 Lab report" in page.text and "#chem" in page.text
        task_id = re.search(r'action="/tasks/(\d+)/toggle"', page.text)
        assert task_id
        await client.post(f"/tasks/{task_id.group(1)}/toggle", data={"csrf": token})
        page = await client.get("/tasks")
        assert "<s>#1 Lab report</s>" in page.text
        bad = await client.post("/tasks", data={"csrf": token, "text": "Essay due yesterday"})
        assert bad.status_code == 400
    async with browser(app) as other:
        await sign_up(other, "other@example.org")
        token = await csrf_of(other, "/tasks")
        stolen = await other.post(f"/tasks/{task_id.group(1)}/toggle", data={"csrf": token})
        assert stolen.status_code == 404


async def test_documents_page_uploads_and_deletes(app: FastAPI, core: Runtime) -> None:
    async with browser(app) as client:
        await sign_up(client, "docs@example.org")
        token = await csrf_of(client, "/documents")
        sent = await client.post(
            "/documents",
            data={"csrf": token},
            files={"file": ("notes.txt", b"Photosynthesis turns light into sugar.", "text/plain")},
        )
        assert sent.status_code == 303
        await core.services.jobs.drain(timeout=60)  # type: ignore[attr-defined]
        page = await client.get("/documents")
        assert "notes.txt" in page.text and "ready" in page.text
        document_id = re.search(r'href="/documents/(\d+)/delete"', page.text)
        assert document_id
        await client.post(f"/documents/{document_id.group(1)}/delete", data={"csrf": token})
        assert "notes.txt" not in (await client.get("/documents")).text
        assert (await client.get("/decks")).status_code == 200


async def test_calendar_feed_is_served_for_its_token_only(app: FastAPI, chat) -> None:  # type: ignore[no-untyped-def]
    await chat.say("/task Exam revision fri 5pm")
    answer = await chat.say("/calendar")
    url = re.search(r"/calendar/([A-Za-z0-9_-]+)\.ics", answer)
    assert url, answer
    async with browser(app) as client:
        feed = await client.get(f"/calendar/{url.group(1)}.ics")
        assert feed.status_code == 200 and "BEGIN:VCALENDAR" in feed.text
        assert "Exam revision" in feed.text
        assert (await client.get("/calendar/not-a-token.ics")).status_code == 404


async def test_rooms_page_shows_the_weeks_leaderboard_of_my_rooms_only(
    app: FastAPI, make_chat, core: Runtime
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    await make_chat("ana", room="physics").say("/room")
    await make_chat("ben", room="physics").say("/room")
    await make_chat("cy", room="secret club").say("/room")
    async with core.db.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO study_sessions (user_id, room_id, source, started_at, ended_at,"
                " minutes) SELECT m.user_id, m.room_id, 'focus', :t, :t, 50"
                " FROM memberships m JOIN identities i ON i.user_id = m.user_id"
                " WHERE i.external_id = 'ben'"
            ),
            {"t": core.services.clock.now()},
        )
    answer = await make_chat("ana").say("/link")
    code = answer.split("code: ")[1].split(" ")[0]
    async with browser(app) as client:
        await sign_up(client, "rooms@example.org")
        await client.post("/link", data={"csrf": await csrf_of(client, "/link"), "code": code})
        page = await client.get("/rooms")
        assert "physics" in page.text and "Ben" in page.text and "50 min" in page.text
        assert "secret club" not in page.text


async def test_the_rooms_page_ranks_every_room_in_one_query(
    app: FastAPI, make_chat: Callable[..., ChatDriver], core: Runtime
) -> None:
    from sqlalchemy import text

    from core.db.counting import counting

    rooms = ["physics", "chemistry", "biology"]
    for n, room in enumerate(rooms):
        await make_chat("ana", room=room).say("/room")
        await make_chat(f"peer{n}", room=room).say("/room")
    await make_chat("cy", room="secret club").say("/room")
    async with core.db.transaction() as session:  # every member studied 10 min per room
        await session.execute(
            text(
                "INSERT INTO study_sessions (user_id, room_id, source, started_at, ended_at,"
                " minutes) SELECT m.user_id, m.room_id, 'focus', :t, :t, 10 + 5 * m.room_id"
                " FROM memberships m"
            ),
            {"t": core.services.clock.now()},
        )
    code = (await make_chat("ana").say("/link")).split("code: ")[1].split(" ")[0]
    async with browser(app) as client:
        await sign_up(client, "many-rooms@example.org")
        await client.post("/link", data={"csrf": await csrf_of(client, "/link"), "code": code})
        await client.get("/rooms")
        with counting(core.db.engine) as count:
            page = await client.get("/rooms")
    boards = re.findall(r'<h2><a href="/rooms/\d+">([^<]+)</a>.*?</ol>', page.text, re.S)
    assert sorted(boards) == sorted(rooms) and "secret club" not in page.text
    assert "Cy" not in page.text
    for n in range(3):
        section = page.text.split(f">{rooms[n]}</a>")[1].split("</ol>")[0]
        assert section.count("<li>") == 2 and f"Peer{n}" in section, section
    assert count.statements == 4, count.texts  # sign-in, user, rooms, every leaderboard
