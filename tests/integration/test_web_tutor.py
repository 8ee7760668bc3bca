"""The tutor page: a streamed conversation kept as history, "new chat", earlier
conversations to reread (only one's own), a graded quiz, and the chat's rate limit."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from core.settings import Settings
from core.tutor.service import TutorPorts
from teddy.runtime import Runtime
from tests.integration.test_tutor import grade, quiz_json
from tests.integration.test_web import browser, csrf_of, sign_up
from tests.integration.test_web_ask import STREAM, events_of
from tests.integration.tutor_fixtures import fake_llm, fake_llm_server, tutor_core, tutor_llm
from tests.support.fake_llm import FakeLLM, FakeReply

__all__ = ["fake_llm", "fake_llm_server", "tutor_core"]


@pytest.fixture
async def app(tutor_core: Runtime, settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, tutor_core)
    await application.state.web.redis.flushdb()
    yield application
    await application.state.web.redis.aclose()


async def say(client: httpx.AsyncClient, text: str) -> list[tuple[str, object]]:
    token = await csrf_of(client, "/tutor")
    sent = await client.post("/tutor", data={"csrf": token, "text": text}, headers=STREAM)
    assert sent.status_code == 200
    return events_of(sent.text)


def messages_on(page: str) -> list[tuple[str, str]]:
    found = re.findall(
        r'<li class="message (user|assistant)"><span class="who">[^<]+</span><p>(.*?)</p>',
        page,
        re.S,
    )
    return [(role, html.unescape(text)) for role, text in found]


async def test_a_streamed_conversation_is_kept_and_new_chat_starts_another(
    app: FastAPI, fake_llm: FakeLLM
) -> None:
    async with browser(app) as ana, browser(app) as ben:
        await sign_up(ana, "tutor@example.org")
        events = await say(ana, "what is osmosis?")
        deltas = [data for kind, data in events if kind == "delta"]
        kind, done = events[-1]
        assert kind == "done" and len(deltas) > 2
        assert "".join(str(d) for d in deltas) == done["text"] == "You said: what is osmosis?"  # type: ignore[index]
        await say(ana, "and diffusion?")
        assert messages_on((await ana.get("/tutor")).text) == [
            ("user", "what is osmosis?"),
            ("assistant", "You said: what is osmosis?"),
            ("user", "and diffusion?"),
            ("assistant", "You said: and diffusion?"),
        ]
        memory = fake_llm.chat_requests[-1]["messages"]
        assert any(m.get("content") == "what is osmosis?" for m in memory)

        token = await csrf_of(ana, "/tutor")
        assert (await ana.post("/tutor/new", data={"csrf": token})).status_code == 303
        fresh = (await ana.get("/tutor")).text
        assert messages_on(fresh) == []
        earlier = re.search(r'href="/tutor/conversations/(\d+)">what is osmosis\?</a>', fresh)
        assert earlier, fresh
        reread = await ana.get(f"/tutor/conversations/{earlier.group(1)}")
        assert len(messages_on(reread.text)) == 4 and 'id="say-form"' not in reread.text
        await say(ana, "new topic: enzymes")
        memory = fake_llm.chat_requests[-1]["messages"]
        assert not any(m.get("content") == "what is osmosis?" for m in memory)

        await sign_up(ben, "ben-tutor@example.org", "Ben")
        assert (await ben.get(f"/tutor/conversations/{earlier.group(1)}")).status_code == 404
        assert "osmosis" not in (await ben.get("/tutor")).text


async def test_a_quiz_is_answered_and_graded_question_by_question(
    app: FastAPI, fake_llm: FakeLLM
) -> None:
    fake_llm.replies += [
        quiz_json(("What does DNA stand for?", "Deoxyribonucleic acid"), ("Powerhouse?", "ATP")),
        grade(True, "Spot on."),
        grade(False, "Think of the mitochondria's product."),
    ]
    async with browser(app) as client:
        await sign_up(client, "quiz@example.org")
        token = await csrf_of(client, "/tutor")
        started = await client.post(
            "/tutor/quiz", data={"csrf": token, "topic": "genetics", "level": "easy"}
        )
        assert started.status_code == 303
        page = (await client.get("/tutor")).text
        assert "Question 1/2: What does DNA stand for?" in page
        _, first = (await say(client, "deoxyribonucleic acid"))[-1]
        assert first["text"].startswith("Correct! Spot on.")  # type: ignore[index]
        assert "Question 2/2: Powerhouse?" in first["text"] and first["quiz"]  # type: ignore[index]
        _, second = (await say(client, "glucose"))[-1]
        assert "Not quite" in second["text"] and "Expected: ATP" in second["text"]  # type: ignore[index]
        assert "Score: 1/2 on genetics" in second["text"] and not second["quiz"]  # type: ignore[index]
        assert 'id="quiz"' not in (await client.get("/tutor")).text


async def test_the_chats_rate_limit_applies_to_the_tutor_page(
    app: FastAPI, tutor_core: Runtime, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tutor_core.services.settings, "tutor_requests_per_minute", 1)
    fake_llm.replies.append(FakeReply("Hello!"))
    async with browser(app) as client:
        await sign_up(client, "rate@example.org")
        assert (await say(client, "hi"))[-1][0] == "done"
        kind, data = (await say(client, "again"))[-1]
        assert kind == "error" and "1 tutor requests a minute" in data["message"]  # type: ignore[index]
        token = await csrf_of(client, "/tutor")
        whole = await client.post("/tutor", data={"csrf": token, "text": "third"})
        assert "tutor requests a minute" in whole.text and ">third</textarea>" in whole.text
        assert len(fake_llm.chat_requests) == 1


async def try_again(client: httpx.AsyncClient, message_id: object) -> tuple[str, Any]:
    """Press Try again on a failed answer: the last event of the streamed reply."""
    token = await csrf_of(client, "/tutor")
    sent = await client.post(
        "/tutor", data={"csrf": token, "retry": str(message_id)}, headers=STREAM
    )
    kind, data = events_of(sent.text)[-1]
    return kind, data


async def test_a_failed_answer_says_why_and_try_again_answers_the_same_question(
    app: FastAPI, fake_llm: FakeLLM
) -> None:
    fake_llm.fail(500, times=4)  # one try and the client's three retries: the turn fails
    async with browser(app) as ana, browser(app) as ben:
        await sign_up(ana, "retry@example.org")
        kind, failed = (await say(ana, "what is osmosis?"))[-1]
        assert isinstance(failed, dict) and kind == "done" and failed["retry"]
        assert "not answering right now" in failed["notes"][0]
        assert "press Try again" in failed["notes"][0]
        page = (await ana.get("/tutor")).text
        assert messages_on(page) == [("user", "what is osmosis?")]  # kept, not lost

        await sign_up(ben, "ben-retry@example.org", "Ben")  # not someone else's message
        assert (await try_again(ben, failed["retry"]))[0] == "error"
        assert len(fake_llm.chat_requests) == 4

        kind, done = await try_again(ana, failed["retry"])
        assert kind == "done" and done["text"] == "You said: what is osmosis?"
        assert not done["notes"] and done["retry"] is None
        assert messages_on((await ana.get("/tutor")).text) == [
            ("user", "what is osmosis?"),
            ("assistant", "You said: what is osmosis?"),
        ]
        kind, data = await try_again(ana, failed["retry"])
        assert kind == "error" and "already answered" in data["message"]


async def test_without_javascript_a_failed_answer_has_a_try_again_form(
    app: FastAPI, tutor_core: Runtime, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_llm.fail(500, times=4)
    async with browser(app) as client:
        await sign_up(client, "nojs-retry@example.org")
        token = await csrf_of(client, "/tutor")
        failed = await client.post("/tutor", data={"csrf": token, "text": "what is ATP?"})
        retry = re.search(r'name="retry" value="(\d+)"><button[^>]*id="try-again"', failed.text)
        assert retry and "not answering right now" in failed.text, failed.text
        again = await client.post("/tutor", data={"csrf": token, "retry": retry.group(1)})
        assert "You said: what is ATP?" in again.text and 'id="try-again"' not in again.text

        # A limit refuses before anything is stored: Try again sends the same text again.
        monkeypatch.setattr(tutor_core.services.settings, "tutor_requests_per_minute", 1)
        limited = await client.post("/tutor", data={"csrf": token, "text": "and NADH?"})
        assert "tutor requests a minute" in limited.text
        assert '<input type="hidden" name="text" value="and NADH?">' in limited.text
        assert 'id="try-again"' in limited.text
        monkeypatch.setattr(tutor_core.services.settings, "tutor_requests_per_minute", 100)
        resent = await client.post("/tutor", data={"csrf": token, "text": "and NADH?"})
        assert "You said: and NADH?" in resent.text


async def test_a_timeout_and_the_daily_budget_also_offer_try_again(
    app: FastAPI, tutor_core: Runtime, fake_llm: FakeLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    tutor_core.services.tutor = TutorPorts(
        tutor_llm(fake_llm, timeout=0.5), tutor_core.services.redis
    )
    fake_llm.stall(2.0)
    async with browser(app) as client:
        await sign_up(client, "slow@example.org")
        kind, slow = (await say(client, "what is a derivative?"))[-1]
        assert isinstance(slow, dict) and kind == "done" and slow["retry"]
        assert "took too long" in slow["notes"][0]
        kind, done = await try_again(client, slow["retry"])
        assert kind == "done" and done["text"] == "You said: what is a derivative?"

        monkeypatch.setattr(tutor_core.services.settings, "tutor_daily_token_budget", 1)
        kind, spent = (await say(client, "and an integral?"))[-1]
        assert kind == "error" and "today's tutor allowance" in spent["message"]  # type: ignore[index]
        token = await csrf_of(client, "/tutor")
        page = await client.post("/tutor", data={"csrf": token, "text": "and an integral?"})
        assert "today's tutor allowance" in html.unescape(page.text)
        assert '<input type="hidden" name="text" value="and an integral?">' in page.text
