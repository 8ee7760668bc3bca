"""REST routes: each works for its owner; on every route (read from the app) another
user's ids answer 404 like missing ones and no token is 401; bad input is 422 with a
message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.app import create_app
from core.clock import FixedClock
from core.documents import service as documents
from core.flashcards import service as flashcards
from core.flashcards.models import Note
from core.flashcards.notes import NoteDraft
from core.identity.models import Identity, User
from core.settings import Settings
from teddy.runtime import Runtime
from tests.integration.test_web import browser, new_api_token, sign_up


@pytest.fixture
async def app(core: Runtime, settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, core)
    await application.state.web.redis.flushdb()
    yield application
    await application.state.web.redis.aclose()


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with browser(app) as client:
        yield client


async def bearer(app: FastAPI, email: str, name: str) -> dict[str, str]:
    async with browser(app) as client:
        await sign_up(client, email, name)
        return {"authorization": f"Bearer {await new_api_token(client)}"}


async def user_id(api: httpx.AsyncClient, headers: dict[str, str]) -> int:
    me = await api.get("/api/v1/me", headers=headers)
    return int(me.json()["id"])


async def give_deck_and_document(core: Runtime, uid: int, clock: FixedClock) -> tuple[int, int]:
    async with core.db.transaction() as session:
        user = await session.get(User, uid)
        assert user is not None
        deck, _ = await flashcards.use_deck(session, user, "Biology")
        drafts = [
            NoteDraft("basic", "Mitochondria?", "Powerhouse"),
            NoteDraft("basic", "ATP?", "Energy"),
        ]
        await flashcards.add_notes(session, user, deck, drafts, clock.now())
        document, _ = await documents.receive_file(
            session, user=user, room=None, name="notes.md", data=b"# Cells\n", max_bytes=10**6
        )
        return deck.id, document.id


async def test_tasks_work_for_their_owner(
    app: FastAPI, api: httpx.AsyncClient, clock: FixedClock
) -> None:
    ana = await bearer(app, "ana@example.org", "Ana")
    due = (clock.now() + timedelta(days=2)).isoformat()
    made = await api.post(
        "/api/v1/tasks",
        json={"title": "Lab report", "due_at": due, "subject": "#Chem", "priority": "high"},
        headers=ana,
    )
    assert made.status_code == 201, made.text
    lab = made.json()
    assert (lab["title"], lab["subject"], lab["priority"]) == ("Lab report", "chem", "high")
    typed = await api.post(
        "/api/v1/tasks", json={"text": "Read chapter 3 tomorrow #bio !low"}, headers=ana
    )
    assert typed.status_code == 201, typed.text
    assert (typed.json()["title"], typed.json()["subject"], typed.json()["priority"]) == (
        "Read chapter 3",
        "bio",
        "low",
    )
    assert typed.json()["due_at"] is not None

    listed = (await api.get("/api/v1/tasks", headers=ana)).json()
    assert [t["title"] for t in listed["tasks"]] == ["Read chapter 3", "Lab report"]
    assert listed["total"] == 2 and not listed["has_more"]
    chem = (await api.get("/api/v1/tasks?subject=chem", headers=ana)).json()
    assert [t["id"] for t in chem["tasks"]] == [lab["id"]]
    paged = (await api.get("/api/v1/tasks?limit=1&offset=1", headers=ana)).json()
    assert [t["title"] for t in paged["tasks"]] == ["Lab report"] and paged["total"] == 2

    got = await api.get(f"/api/v1/tasks/{lab['id']}", headers=ana)
    assert got.json()["title"] == "Lab report"
    patched = await api.patch(
        f"/api/v1/tasks/{lab['id']}",
        json={"title": "Lab report v2", "notes": "graphs", "priority": "low", "done": True},
        headers=ana,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["title"], body["notes"], body["priority"]) == ("Lab report v2", "graphs", "low")
    assert body["completed_at"] is not None
    done = (await api.get("/api/v1/tasks?view=done", headers=ana)).json()
    assert [t["id"] for t in done["tasks"]] == [lab["id"]]
    reopened = await api.patch(f"/api/v1/tasks/{lab['id']}", json={"done": False}, headers=ana)
    assert reopened.json()["completed_at"] is None

    assert (await api.delete(f"/api/v1/tasks/{lab['id']}", headers=ana)).status_code == 204
    assert (await api.get(f"/api/v1/tasks/{lab['id']}", headers=ana)).status_code == 404
    assert (await api.get("/api/v1/tasks?view=all", headers=ana)).json()["total"] == 1


async def test_bad_task_input_is_422_with_a_message(
    app: FastAPI, api: httpx.AsyncClient, clock: FixedClock
) -> None:
    ana = await bearer(app, "ana@example.org", "Ana")
    past = (clock.now() - timedelta(hours=1)).isoformat()
    late = await api.post("/api/v1/tasks", json={"title": "Essay", "due_at": past}, headers=ana)
    assert late.status_code == 422 and "past" in late.json()["detail"]
    empty = await api.post("/api/v1/tasks", json={"title": "   "}, headers=ana)
    assert empty.status_code == 422 and "title" in empty.json()["detail"]
    nothing = await api.post("/api/v1/tasks", json={}, headers=ana)
    assert nothing.status_code == 422 and "title" in nothing.json()["detail"]
    naive = await api.post(
        "/api/v1/tasks", json={"title": "Essay", "due_at": "2027-01-01T10:00:00"}, headers=ana
    )
    assert naive.status_code == 422 and "timezone" in naive.text
    view = await api.get("/api/v1/tasks?view=someday", headers=ana)
    assert view.status_code == 422 and "open" in view.text and "overdue" in view.text
    subject = await api.get("/api/v1/tasks?subject=two words", headers=ana)
    assert subject.status_code == 422 and "subject" in subject.json()["detail"]

    nul = await api.post("/api/v1/tasks", json={"title": "a\x00b"}, headers=ana)
    assert nul.status_code == 422 and "NUL" in nul.json()["detail"]
    nul_subject = await api.get("/api/v1/tasks?subject=a%00b", headers=ana)
    assert nul_subject.status_code == 422
    surrogate = await api.post(
        "/api/v1/tasks",
        content=b'{"title": "a\\ud800b"}',
        headers={**ana, "content-type": "application/json"},
    )
    assert surrogate.status_code == 422 and "unicode" in surrogate.text
    too_late = {"title": "Essay", "due_at": "9999-12-31T23:00:00-05:00"}
    overflow = await api.post("/api/v1/tasks", json=too_late, headers=ana)
    assert overflow.status_code == 422 and "out of range" in overflow.text
    assert (await api.get("/api/v1/tasks?view=all", headers=ana)).json()["total"] == 0

    task = (await api.post("/api/v1/tasks", json={"title": "Essay"}, headers=ana)).json()
    moved = await api.patch(f"/api/v1/tasks/{task['id']}", json={"due_at": past}, headers=ana)
    assert moved.status_code == 422 and "past" in moved.json()["detail"]
    blank = await api.patch(f"/api/v1/tasks/{task['id']}", json={"title": ""}, headers=ana)
    assert blank.status_code == 422 and "title" in blank.json()["detail"]
    assert (await api.get(f"/api/v1/tasks/{task['id']}", headers=ana)).json()["title"] == "Essay"


async def test_decks_and_documents_work_for_their_owner(
    app: FastAPI, api: httpx.AsyncClient, core: Runtime, clock: FixedClock
) -> None:
    ana = await bearer(app, "ana@example.org", "Ana")
    deck_id, document_id = await give_deck_and_document(core, await user_id(api, ana), clock)

    decks = (await api.get("/api/v1/decks", headers=ana)).json()
    assert [(d["id"], d["name"], d["cards"], d["new"]) for d in decks] == [
        (deck_id, "Biology", 2, 2)
    ]
    stats = (await api.get(f"/api/v1/decks/{deck_id}/stats", headers=ana)).json()
    assert (stats["name"], stats["cards"], stats["reviews"], stats["retention"]) == (
        "Biology",
        2,
        0,
        None,
    )
    assert len(stats["due_forecast"]) == 14
    cards = (await api.get(f"/api/v1/decks/{deck_id}/cards", headers=ana)).json()
    assert [c["question"] for c in cards] == ["Mitochondria?", "ATP?"]
    second = (await api.get(f"/api/v1/decks/{deck_id}/cards?offset=1&limit=1", headers=ana)).json()
    assert [c["answer"] for c in second] == ["Energy"]

    listed = (await api.get("/api/v1/documents", headers=ana)).json()
    assert [(d["id"], d["title"], d["kind"]) for d in listed] == [(document_id, "notes.md", "md")]
    assert (await api.delete(f"/api/v1/documents/{document_id}", headers=ana)).status_code == 204
    assert (await api.get("/api/v1/documents", headers=ana)).json() == []
    assert (await api.delete(f"/api/v1/documents/{document_id}", headers=ana)).status_code == 404


# A body that passes validation, for each route that takes one.
BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("POST", "/api/v1/tasks"): {"title": "x"},
    ("PATCH", "/api/v1/tasks/{task_id}"): {"title": "mine now", "done": True},
    ("POST", "/api/v1/tokens"): {"name": "mine"},
    ("POST", "/api/v1/link"): {"code": "ABCD-2345"},
    ("PATCH", "/api/v1/cards/{number}"): {"front": "mine now"},
    ("PATCH", "/api/v1/decks/{deck_id}"): {"name": "mine now"},
    ("POST", "/api/v1/decks/{deck_id}/merge"): {"into_deck_id": 999999},
}
# What of Ben's must never show in an answer to Ana.
BENS = ("Ben's secret", "Biology", "Mitochondria", "notes.md", "ben-laptop", "ben@example.org")


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every REST route of the app, read from the app's own OpenAPI description: a route
    added later is in."""
    paths: dict[str, dict[str, object]] = app.openapi()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1/")
        for method in operations
    )


async def bens_things(
    app: FastAPI, api: httpx.AsyncClient, core: Runtime, clock: FixedClock, ben: dict[str, str]
) -> dict[str, int]:
    """Ben's task, deck, card, document, identity and API token: their ids by path
    parameter."""
    ben_id = await user_id(api, ben)
    deck_id, document_id = await give_deck_and_document(core, ben_id, clock)
    task = (await api.post("/api/v1/tasks", json={"title": "Ben's secret"}, headers=ben)).json()
    [token] = (await api.get("/api/v1/tokens", headers=ben)).json()  # the one he signs with
    async with core.db.transaction() as session:
        identity = Identity(
            user_id=ben_id, platform="console", external_id="ben-laptop", display_name="ben-laptop"
        )
        session.add(identity)
        await session.flush()
        identity_id = identity.id
        note_id = await session.scalar(select(Note.id).where(Note.deck_id == deck_id).limit(1))
    return {
        "task_id": task["id"],
        "deck_id": deck_id,
        "document_id": document_id,
        "identity_id": identity_id,
        "token_id": token["id"],
        "number": note_id,  # a card's number is its note's id
    }


async def test_every_api_route_is_401_without_a_token_and_404_for_another_users_ids(
    app: FastAPI, api: httpx.AsyncClient, core: Runtime, clock: FixedClock
) -> None:
    ana = await bearer(app, "ana@example.org", "Ana")
    ben = await bearer(app, "ben@example.org", "Ben")
    ids = await bens_things(app, api, core, clock, ben)
    routes = api_routes(app)
    assert {path for _, path in routes} >= {
        "/api/v1/identities/{identity_id}",
        "/api/v1/tokens/{token_id}",
        "/api/v1/link",
        "/api/v1/export",
    }
    for method, template in routes:
        path = template.format(**ids)  # a KeyError: a new parameter needs one of Ben's ids
        body = BODIES.get((method, template))
        anonymous = await api.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["www-authenticate"] == "Bearer"
        forged = await api.request(
            method, path, json=body, headers={"authorization": "Bearer tt_forged"}
        )
        assert forged.status_code == 401, (method, path)
        answer = await api.request(method, path, json=body, headers=ana)
        if "{" in template:  # one of Ben's ids: like a missing one
            assert answer.status_code == 404, (method, path, answer.text)
        else:
            assert answer.status_code < 500, (method, path, answer.text)
        assert not [b for b in BENS if b in answer.text], (method, path, answer.text)

    anas_tasks = (await api.get("/api/v1/tasks?view=all", headers=ana)).json()["tasks"]
    assert [t["title"] for t in anas_tasks] == ["x"]  # the one she made, nothing of Ben's
    assert (await api.get("/api/v1/decks", headers=ana)).json() == []
    assert (await api.get("/api/v1/documents", headers=ana)).json() == []
    # Ben's things are untouched.
    kept = (await api.get(f"/api/v1/tasks/{ids['task_id']}", headers=ben)).json()
    assert (kept["title"], kept["completed_at"]) == ("Ben's secret", None)
    assert [d["id"] for d in (await api.get("/api/v1/documents", headers=ben)).json()] == [
        ids["document_id"]
    ]
    assert (await api.get(f"/api/v1/decks/{ids['deck_id']}/cards", headers=ben)).status_code == 200
    identities = (await api.get("/api/v1/identities", headers=ben)).json()
    assert ids["identity_id"] in [i["id"] for i in identities]
    tokens = (await api.get("/api/v1/tokens", headers=ben)).json()
    assert ids["token_id"] in [t["id"] for t in tokens]


async def test_new_routes_are_in_the_openapi_spec(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/api/v1/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/tasks",
        "/api/v1/tasks/{task_id}",
        "/api/v1/decks",
        "/api/v1/decks/{deck_id}/stats",
        "/api/v1/decks/{deck_id}/cards",
        "/api/v1/documents",
        "/api/v1/documents/{document_id}",
    ):
        assert path in paths
    listed = paths["/api/v1/tasks"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listed["schema"]["$ref"].endswith("/TaskList")
