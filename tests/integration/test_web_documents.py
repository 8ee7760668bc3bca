"""The documents page: summaries and key concepts, search with marked matches, and a
confirm step before deleting."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.app import create_app
from core.documents.models import Document
from core.settings import Settings
from teddy.runtime import Runtime
from tests.integration.test_web import browser, csrf_of, sign_up

NOTES = (
    "Photosynthesis happens in the chloroplasts of plant cells. Light energy is captured by "
    "chlorophyll and turned into chemical energy. "
    + "Plants also need water and carbon dioxide from the air around them. " * 12
    + "The Calvin cycle fixes carbon dioxide into sugar using ATP and NADPH. "
    + "Oxygen is released as a by-product of splitting water. " * 8
)


@pytest.fixture
async def app(core: Runtime, settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, core)
    await application.state.web.redis.flushdb()
    yield application
    await application.state.web.redis.aclose()


async def upload(client: httpx.AsyncClient, core: Runtime, name: str, text: str) -> str:
    token = await csrf_of(client, "/documents")
    sent = await client.post(
        "/documents", data={"csrf": token}, files={"file": (name, text.encode(), "text/plain")}
    )
    assert sent.status_code == 303
    await core.services.jobs.drain(timeout=60)  # type: ignore[attr-defined]
    page = await client.get("/documents")
    found = re.search(
        rf'id="document-(\d+)"[^>]*>\s*<div class="task-row">\s*<span><strong>{name}', page.text
    )
    assert found, page.text
    return found.group(1)


async def test_each_document_shows_its_summary_and_key_concepts(
    app: FastAPI, core: Runtime
) -> None:
    async with browser(app) as client:
        await sign_up(client, "summary@example.org")
        await upload(client, core, "photo.txt", NOTES)
        page = await client.get("/documents")
        async with core.db.transaction() as session:
            stored = await session.scalar(select(Document))
        assert stored is not None and stored.summary and stored.key_concepts
        summary = re.search(r'<p class="summary">([^<]+)</p>', page.text)
        assert summary and summary.group(1) == html.escape(stored.summary)
        concepts = re.findall(
            r'<a class="tag" href="/documents/search\?q=[^"]+">([^<]+)</a>', page.text
        )
        assert concepts == [html.escape(c) for c in stored.key_concepts]


async def test_search_marks_the_match_in_the_passage_around_it(app: FastAPI, core: Runtime) -> None:
    async with browser(app) as client:
        await sign_up(client, "search@example.org")
        await upload(client, core, "photo.txt", NOTES)
        found = await client.get("/documents/search", params={"q": "Calvin cycle"})
        assert found.status_code == 200
        passage = re.search(r'<p class="passage">(.*?)</p>', found.text, re.S)
        assert passage, found.text
        assert "<mark>Calvin</mark> <mark>cycle</mark>" in passage.group(1)
        assert "photo.txt" in found.text
        nothing = await client.get("/documents/search", params={"q": "quasar"})
        assert "<mark>" not in nothing.text  # a neighbour by meaning, with nothing to mark
        assert (await client.get("/documents/search?q=")).status_code == 303


async def test_delete_asks_first_and_only_the_confirming_post_deletes(
    app: FastAPI, core: Runtime
) -> None:
    async with browser(app) as client:
        await sign_up(client, "delete@example.org")
        document_id = await upload(client, core, "photo.txt", NOTES)
        listing = await client.get("/documents")
        assert f'href="/documents/{document_id}/delete"' in listing.text
        confirm = await client.get(f"/documents/{document_id}/delete")
        assert confirm.status_code == 200 and "photo.txt" in confirm.text
        assert f'action="/documents/{document_id}/delete"' in confirm.text
        assert "photo.txt" in (await client.get("/documents")).text  # asking deleted nothing
        token = await csrf_of(client, f"/documents/{document_id}/delete")
        done = await client.post(f"/documents/{document_id}/delete", data={"csrf": token})
        assert done.status_code == 303
        assert "photo.txt" not in (await client.get("/documents")).text


async def test_another_users_document_answers_404_and_stays_out_of_their_search(
    app: FastAPI, core: Runtime
) -> None:
    async with browser(app) as ana, browser(app) as ben:
        await sign_up(ana, "ana-docs@example.org")
        document_id = await upload(ana, core, "photo.txt", NOTES)
        await sign_up(ben, "ben-docs@example.org", "Ben")
        token = await csrf_of(ben, "/documents")
        assert (await ben.get(f"/documents/{document_id}/delete")).status_code == 404
        stolen = await ben.post(f"/documents/{document_id}/delete", data={"csrf": token})
        assert stolen.status_code == 404
        results = await ben.get("/documents/search", params={"q": "Calvin"})
        assert "photo.txt" not in results.text and "Calvin cycle" not in results.text
        assert "Nothing in your documents matches" in results.text
        assert "photo.txt" in (await ana.get("/documents")).text


async def test_the_status_feed_lists_only_my_own_documents(app: FastAPI, core: Runtime) -> None:
    async with browser(app) as ana, browser(app) as ben:
        await sign_up(ana, "ana-status@example.org")
        document_id = await upload(ana, core, "photo.txt", NOTES)
        mine = (await ana.get("/documents/status")).json()["documents"]
        assert [(d["id"], d["status"]) for d in mine] == [(int(document_id), "ready")]
        assert mine[0]["chunks"] > 0
        await sign_up(ben, "ben-status@example.org", "Ben")
        assert (await ben.get("/documents/status")).json() == {"documents": []}
