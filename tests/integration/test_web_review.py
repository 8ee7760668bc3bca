"""Reviewing flashcards on the web: the same sessions and FSRS schedule as chat."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from fsrs import Card, Rating, Scheduler
from sqlalchemy import select

from api.app import create_app
from core.clock import FixedClock
from core.flashcards.models import CardState, ReviewLog
from core.settings import Settings
from teddy.runtime import Runtime
from tests.integration.test_flashcards_review import button
from tests.integration.test_web import browser, csrf_of, sign_up
from tests.support.chat_driver import ChatDriver


@pytest.fixture
async def app(core: Runtime, settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, core)
    await application.state.web.redis.flushdb()
    yield application
    await application.state.web.redis.aclose()


async def link_chat(client: httpx.AsyncClient, chat: ChatDriver) -> None:
    answer = await chat.say("/link")
    code = answer.split("code: ")[1].split(" ")[0]
    linked = await client.post("/link", data={"csrf": await csrf_of(client, "/link"), "code": code})
    assert linked.status_code == 303


async def start(client: httpx.AsyncClient, deck_id: str = "") -> str:
    token = await csrf_of(client, "/review")
    started = await client.post("/review", data={"csrf": token, "deck": deck_id})
    assert started.status_code == 303, started.text
    return str(started.headers["location"])


def grade_form(page: str, rating: Rating) -> dict[str, str]:
    fields = dict(re.findall(r'name="(csrf|card|shown)" value="([^"]+)"', page))
    return {**fields, "rating": str(int(rating))}


async def test_a_card_reviewed_in_chat_continues_on_the_web_with_the_same_fsrs_state(
    app: FastAPI, core: Runtime, chat: ChatDriver, clock: FixedClock
) -> None:
    await chat.say("/deck Biology")
    await chat.say("/card Mitochondria | powerhouse of the cell")
    created = clock.now()
    replies = await chat.send("/review")
    card_id = int(button(replies, "Show answer").split(":")[2])
    shown = await chat.press(button(replies, "Show answer"))
    await chat.press(button(shown, "Again"))
    scheduler = Scheduler(enable_fuzzing=False)
    expected, _ = scheduler.review_card(Card(card_id=card_id, due=created), Rating.Again, created)

    clock.advance(timedelta(minutes=20))
    async with browser(app) as client:
        await sign_up(client, "review@example.org")
        await link_chat(client, chat)
        picker = await client.get("/review")
        assert "Biology" in picker.text and "1 due" in picker.text
        session_url = await start(client)
        front = await client.get(session_url)
        assert "Mitochondria" in front.text
        assert re.search(r'id="card-back"\s+hidden', front.text)  # the answer waits
        preview, _ = scheduler.review_card(expected, Rating.Good, clock.now())
        assert f"Good <small>{_interval(preview.due - clock.now())}</small>" in front.text
        answer_link = re.search(r'href="(/review/\d+/card/\d+\?shown=\d+)"', front.text)
        assert answer_link
        answered = await client.get(answer_link.group(1))
        assert "powerhouse of the cell" in answered.text and 'id="card-back" hidden' not in (
            answered.text
        )
        clock.advance(timedelta(seconds=5))
        graded = await client.post(f"{session_url}/grade", data=grade_form(front.text, Rating.Good))
        assert graded.status_code == 303
        expected, _ = scheduler.review_card(expected, Rating.Good, clock.now())
        summary = await client.get(session_url)
        assert "Session done" in summary.text and 'id="reviewed-count">1<' in summary.text
    async with core.db.transaction() as session:
        row = await session.scalar(select(CardState).where(CardState.card_id == card_id))
        logs = list(await session.scalars(select(ReviewLog).order_by(ReviewLog.id)))
    assert row is not None
    assert (row.due, row.stability, row.difficulty) == (
        expected.due,
        expected.stability,
        expected.difficulty,
    )
    assert [log.rating for log in logs] == [int(Rating.Again), int(Rating.Good)]
    assert len({log.user_id for log in logs}) == 1
    assert "Nothing is due" in await chat.say("/review")


def _interval(delta: timedelta) -> str:
    from core.flashcards.scheduling import format_interval

    return format_interval(delta)


async def test_reviewing_one_deck_ends_with_a_summary_of_the_ratings(
    app: FastAPI, chat: ChatDriver
) -> None:
    await chat.say("/deck Chem")
    await chat.say("/card H2O | water")
    await chat.say("/card NaCl | salt")
    await chat.say("/deck Other")
    await chat.say("/card Not | this deck")
    async with browser(app) as client:
        await sign_up(client, "deck@example.org")
        await link_chat(client, chat)
        picker = await client.get("/review")
        chem = re.search(
            r'name="deck" value="(\d+)">\s*<button[^>]*aria-label="review Chem"', picker.text
        )
        assert chem, picker.text
        session_url = await start(client, chem.group(1))
        seen = []
        for rating in (Rating.Hard, Rating.Easy):
            front = await client.get(session_url)
            seen.append(re.search(r'id="card-front">([^<]+)<', front.text).group(1))  # type: ignore[union-attr]
            await client.post(f"{session_url}/grade", data=grade_form(front.text, rating))
        summary = await client.get(session_url)
    assert sorted(seen) == ["H2O", "NaCl"]
    assert "Hard <strong>1</strong>" in summary.text and "Easy <strong>1</strong>" in summary.text
    assert "Again <strong>0</strong>" in summary.text


async def test_another_users_review_session_and_cards_answer_404(
    app: FastAPI, chat: ChatDriver
) -> None:
    await chat.say("/deck Secret")
    await chat.say("/card Private | card")
    async with browser(app) as ana, browser(app) as ben:
        await sign_up(ana, "ana-review@example.org")
        await link_chat(ana, chat)
        ana_session = await start(ana)
        front = await ana.get(ana_session)
        card = re.search(r'name="card" value="(\d+)"', front.text)
        assert card
        await sign_up(ben, "ben-review@example.org", "Ben")
        token = await csrf_of(ben, "/review")
        assert (await ben.get(ana_session)).status_code == 404
        form = {**grade_form(front.text, Rating.Good), "csrf": token}
        assert (await ben.post(f"{ana_session}/grade", data=form)).status_code == 404
        assert (await ben.post(f"{ana_session}/end", data={"csrf": token})).status_code == 404
        ben_session = await start(ben)
        stolen = await ben.post(f"{ben_session}/grade", data=form)
        assert stolen.status_code == 404
        peek = await ben.get(f"{ben_session}/card/{card.group(1)}?shown=1")
        assert peek.status_code == 404 and "Private" not in peek.text
        deck = await ben.post("/review", data={"csrf": token, "deck": "999999"})
        assert deck.status_code == 404
        assert "Private" not in (await ben.get("/review")).text


async def test_a_forged_shown_time_is_refused_as_bad_input(app: FastAPI, chat: ChatDriver) -> None:
    await chat.say("/deck Chem")
    await chat.say("/card H2O | water")
    async with browser(app) as client:
        await sign_up(client, "forged@example.org")
        await link_chat(client, chat)
        session_url = await start(client)
        front = await client.get(session_url)
        form = {**grade_form(front.text, Rating.Good), "shown": str(2**62)}
        refused = await client.post(f"{session_url}/grade", data=form)
        assert refused.status_code == 400 and "out of date" in refused.text
        assert "H2O" in (await client.get(session_url)).text  # still to review
