"""/ask on the web: a streamed answer (server-sent events) with numbered citations whose
passages come along, about all documents or one; the chat's rate limit applies."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from core.settings import Settings
from teddy.runtime import Runtime
from tests.integration.test_tutor_grounded import KREBS, cite_the_passage_with
from tests.integration.test_web import browser, csrf_of, sign_up
from tests.integration.test_web_documents import upload
from tests.integration.tutor_fixtures import fake_llm, fake_llm_server, tutor_core
from tests.support.fake_llm import FakeLLM

__all__ = ["fake_llm", "fake_llm_server", "tutor_core"]

LECTURE = (
    "Glycolysis splits glucose into two pyruvate molecules in the cytoplasm. " * 3
    + KREBS
    + " The electron transport chain makes most of the ATP."
)
PLANTS = "Photosynthesis happens in chloroplasts of plant cells; the Krebs cycle is elsewhere."
STREAM = {"accept": "text/event-stream"}


@pytest.fixture
async def app(tutor_core: Runtime, settings: Settings) -> AsyncIterator[FastAPI]:
    tutor_core.services.embedder = None  # keyword retrieval: deterministic
    application = create_app(settings, tutor_core)
    await application.state.web.redis.flushdb()
    yield application
    await application.state.web.redis.aclose()


def events_of(body: str) -> list[tuple[str, Any]]:
    found = re.findall(r"event: (\w+)\ndata: (.*)\n\n", body)
    return [(kind, json.loads(data)) for kind, data in found]


async def ask(client: httpx.AsyncClient, question: str, document: str = "") -> list[Any]:
    path = f"/documents/ask?document={document}" if document else "/documents/ask"
    token = await csrf_of(client, path)
    form = {"csrf": token, "q": question, "document": document}
    answer = await client.post("/documents/ask", data=form, headers=STREAM)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    return events_of(answer.text)


async def test_the_answer_streams_and_its_citation_carries_the_passage(
    app: FastAPI, tutor_core: Runtime, fake_llm: FakeLLM
) -> None:
    async with browser(app) as client:
        await sign_up(client, "ask@example.org")
        await upload(client, tutor_core, "lecture.txt", LECTURE)
        fake_llm.default = cite_the_passage_with("mitochondrial matrix")
        events = await ask(client, "where does the krebs cycle take place?")
        deltas = [data for kind, data in events if kind == "delta"]
        kind, done = events[-1]
        assert kind == "done" and len(deltas) > 3
        assert "".join(deltas) == done["text"]
        number = int(re.search(r"matrix \[(\d+)\]", done["text"]).group(1))  # type: ignore[union-attr]
        cited = done["sources"][number - 1]
        assert cited["n"] == number and cited["cited"] and KREBS in cited["text"]
        assert cited["handle"] == "lecture.txt"
        whole = await client.post(
            "/documents/ask",
            data={"csrf": await csrf_of(client, "/documents/ask"), "q": "krebs cycle"},
        )
        assert f'<a class="cite" href="#source-{number}"' in whole.text
        assert f'id="source-{number}"' in whole.text and "mitochondrial matrix" in whole.text


async def test_asking_about_one_document_uses_only_its_passages(
    app: FastAPI, tutor_core: Runtime, fake_llm: FakeLLM
) -> None:
    async with browser(app) as client:
        await sign_up(client, "one@example.org")
        await upload(client, tutor_core, "lecture.txt", LECTURE)
        plants = await upload(client, tutor_core, "plants.txt", PLANTS)
        events = await ask(client, "krebs cycle", plants)
        _, done = events[-1]
        assert [s["handle"] for s in done["sources"]] == ["plants.txt"]
        prompt = fake_llm.chat_requests[-1]["messages"][-1]["content"]
        assert "chloroplasts" in prompt and "mitochondrial matrix" not in prompt


async def test_another_students_document_cannot_be_asked_about(
    app: FastAPI, tutor_core: Runtime, fake_llm: FakeLLM
) -> None:
    async with browser(app) as ana, browser(app) as ben:
        await sign_up(ana, "ana-ask@example.org")
        lecture = await upload(ana, tutor_core, "lecture.txt", LECTURE)
        await sign_up(ben, "ben-ask@example.org", "Ben")
        assert (await ben.get(f"/documents/ask?document={lecture}")).status_code == 404
        events = await ask(ben, "krebs cycle")
        _, done = events[-1]
        assert done["sources"] == [] and "don't cover" in done["notes"][0]
        token = await csrf_of(ben, "/documents/ask")
        stolen = await ben.post(
            "/documents/ask",
            data={"csrf": token, "q": "krebs cycle", "document": lecture},
            headers=STREAM,
        )
        assert events_of(stolen.text) == [("error", {"message": "That document doesn't exist."})]
        assert fake_llm.chat_requests == []


async def test_the_chats_rate_limit_applies_to_asking_on_the_web(
    app: FastAPI, tutor_core: Runtime, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tutor_core.services.settings, "tutor_requests_per_minute", 2)
    async with browser(app) as client:
        await sign_up(client, "limit@example.org")
        await upload(client, tutor_core, "lecture.txt", LECTURE)
        for _ in range(2):
            assert (await ask(client, "krebs cycle"))[-1][0] == "done"
        kind, data = (await ask(client, "krebs cycle"))[-1]
        assert kind == "error" and "2 tutor requests a minute" in data["message"]
        assert len(fake_llm.chat_requests) == 2
