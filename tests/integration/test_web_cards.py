"""The card browser on the web: search, edit, suspend and delete cards, rename and delete
decks (deleting asks first), through the same flashcards services as chat."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from core.settings import Settings
from teddy.runtime import Runtime
from tests.integration.test_web import browser, csrf_of, sign_up
from tests.integration.test_web_review import link_chat
from tests.support.chat_driver import ChatDriver


@pytest.fixture
async def app(core: Runtime, settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, core)
    await application.state.web.redis.flushdb()
    yield application
    await application.state.web.redis.aclose()


async def chem_deck(client: httpx.AsyncClient, chat: ChatDriver) -> str:
    await chat.say("/deck Chem")
    await chat.say("/card H2O | **water**")
    await chat.say("/card NaCl | salt")
    await link_chat(client, chat)
    decks = await client.get("/decks")
    deck = re.search(r'href="/decks/(\d+)"><strong>Chem', decks.text)
    assert deck, decks.text
    return deck.group(1)


def numbers(page: str) -> list[str]:
    return re.findall(r'<li class="task[^"]*" id="card-(\d+)"', page)


async def test_cards_are_searched_edited_suspended_and_deleted_after_a_confirm(
    app: FastAPI, chat: ChatDriver
) -> None:
    async with browser(app) as client:
        await sign_up(client, "cards@example.org")
        deck_id = await chem_deck(client, chat)
        page = await client.get(f"/decks/{deck_id}")
        assert "<strong>water</strong>" in page.text
        water, salt = numbers(page.text)
        found = await client.get(f"/decks/{deck_id}", params={"q": "salt"})
        assert numbers(found.text) == [salt]
        token = await csrf_of(client, f"/decks/{deck_id}")

        edited = await client.post(
            f"/cards/{water}/edit", data={"csrf": token, "front": "H₂O", "back": "water!"}
        )
        assert edited.status_code == 303
        page = await client.get(edited.headers["location"])
        assert "H₂O" in page.text and 'id="saved-card"' in page.text

        await client.post(f"/cards/{salt}/suspend", data={"csrf": token, "suspended": "1"})
        page = await client.get(f"/decks/{deck_id}")
        assert re.search(rf'class="task suspended" id="card-{salt}"', page.text)
        review = await client.post("/review", data={"csrf": token, "deck": deck_id})
        fronts = []
        for _ in range(3):
            shown = await client.get(review.headers["location"])
            front = re.search(r'id="card-front">([^<]+)<', shown.text)
            if front is None:
                break
            fronts.append(front.group(1))
            fields = dict(re.findall(r'name="(csrf|card|shown)" value="([^"]+)"', shown.text))
            await client.post(f"{review.headers['location']}/grade", data={**fields, "rating": "3"})
        assert fronts == ["H₂O"]  # the suspended card is not reviewed

        confirm = await client.get(f"/cards/{salt}/delete")
        assert confirm.status_code == 200 and "NaCl" in confirm.text
        assert numbers((await client.get(f"/decks/{deck_id}")).text) == [water, salt]
        deleted = await client.post(f"/cards/{salt}/delete", data={"csrf": token})
        assert deleted.status_code == 303
        assert numbers((await client.get(f"/decks/{deck_id}")).text) == [water]
        bad = await client.post(f"/cards/{water}/edit", data={"csrf": token, "front": ""})
        assert bad.status_code == 400


async def test_a_deck_is_renamed_and_deleted_after_a_confirm(
    app: FastAPI, chat: ChatDriver
) -> None:
    async with browser(app) as client:
        await sign_up(client, "decks@example.org")
        deck_id = await chem_deck(client, chat)
        token = await csrf_of(client, f"/decks/{deck_id}")
        renamed = await client.post(
            f"/decks/{deck_id}/rename", data={"csrf": token, "name": "Chemistry"}
        )
        assert renamed.status_code == 303
        assert "<h1>Chemistry</h1>" in (await client.get(f"/decks/{deck_id}")).text
        confirm = await client.get(f"/decks/{deck_id}/delete")
        assert confirm.status_code == 200 and "2 cards" in confirm.text
        assert "Chemistry" in (await client.get("/decks")).text  # asking deleted nothing
        gone = await client.post(f"/decks/{deck_id}/delete", data={"csrf": token})
        assert gone.headers["location"] == "/decks"
        assert "Chemistry" not in (await client.get("/decks")).text
        assert (await client.get(f"/decks/{deck_id}")).status_code == 404


async def test_another_users_cards_and_decks_answer_404(app: FastAPI, chat: ChatDriver) -> None:
    async with browser(app) as ana, browser(app) as ben:
        await sign_up(ana, "ana-cards@example.org")
        deck_id = await chem_deck(ana, chat)
        water, _ = numbers((await ana.get(f"/decks/{deck_id}")).text)
        await sign_up(ben, "ben-cards@example.org", "Ben")
        token = await csrf_of(ben, "/decks")
        for method, path, form in (
            ("GET", f"/decks/{deck_id}", None),
            ("GET", f"/decks/{deck_id}/delete", None),
            ("POST", f"/decks/{deck_id}/delete", {"csrf": token}),
            ("POST", f"/decks/{deck_id}/rename", {"csrf": token, "name": "Mine"}),
            ("GET", f"/cards/{water}/delete", None),
            ("POST", f"/cards/{water}/delete", {"csrf": token}),
            ("POST", f"/cards/{water}/edit", {"csrf": token, "front": "x", "back": "y"}),
            ("POST", f"/cards/{water}/suspend", {"csrf": token, "suspended": "1"}),
        ):
            answer = await ben.request(method, path, data=form)
            assert answer.status_code == 404, path
        assert "H2O" in (await ana.get(f"/decks/{deck_id}")).text
