"""/help answers the words people try for an area, and linking keeps the typed name."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from teddy.runtime import Runtime
from tests.integration.test_web import app, browser, csrf_of, sign_up  # noqa: F401  (fixture)
from tests.support.chat_driver import ChatDriver


@pytest.mark.parametrize(
    ("topic", "heading"),
    [
        ("flashcards", "Flashcards"),
        ("cards", "Flashcards"),
        ("deck", "Flashcards"),
        ("decks", "Flashcards"),
        ("review", "Flashcards"),
        ("todo", "Tasks and reminders"),
        ("tasks", "Tasks and reminders"),
        ("docs", "Tutor and documents"),
        ("documents", "Tutor and documents"),
        ("files", "Tutor and documents"),
        ("tutor", "Tutor and documents"),
        ("ask", "Tutor and documents"),
        ("room", "Study rooms"),
        ("group", "Study rooms"),
        ("Rooms", "Study rooms"),
    ],
)
async def test_help_accepts_the_obvious_words_for_each_area(
    chat: ChatDriver, topic: str, heading: str
) -> None:
    answer = await chat.say(f"/help {topic}")
    assert "No help on" not in answer
    assert heading in answer.splitlines()[0] or f"\n{heading}\n" in answer


async def test_help_on_a_word_that_is_also_a_command_shows_the_command_first(
    chat: ChatDriver,
) -> None:
    answer = await chat.say("/help review")
    assert answer.startswith("/review [deck]")
    assert "Flashcards" in answer and "/editcard" in answer
    assert "No help on “bananas”" in await chat.say("/help bananas")


async def test_linking_keeps_the_name_typed_on_the_web(
    app: FastAPI,  # noqa: F811
    core: Runtime,
    make_chat,  # type: ignore[no-untyped-def]
) -> None:
    chat = make_chat("aiko")
    answer = await chat.say("/link")
    code = answer.split("code: ")[1].split(" ")[0]
    client: httpx.AsyncClient
    async with browser(app) as client:
        await sign_up(client, "aiko@example.org", "Aiko Tanaka")
        token = await csrf_of(client, "/link")
        linked = await client.post("/link", data={"csrf": token, "code": code})
        assert linked.status_code == 303
        assert "Aiko Tanaka" in (await client.get("/settings")).text
    assert "Hi Aiko Tanaka!" in await chat.say("/start")
