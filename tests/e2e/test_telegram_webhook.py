"""The webhook route with the real Application behind it: Telegram's secret token is
checked on every request, and a redelivered update is handled once."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI

from bots.telegram.run import run_telegram
from bots.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH, telegram_webhook_router
from teddy.http_server import http_server
from teddy.runtime import Runtime
from tests.support.telegram_harness import (
    WEBHOOK_SECRET,
    TelegramBot,
    bot_settings,
    running_bot,
    wait_for,
)
from tests.support.telegram_standin import TelegramStandIn, message_update, user

ALICE = user(111, "Alice")


@pytest.fixture
async def bot(core: Runtime) -> AsyncIterator[TelegramBot]:
    async with running_bot(core, started=True) as running:
        yield running


@pytest.fixture
async def client(bot: TelegramBot) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(telegram_webhook_router(bot.application, bot.settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://teddy.test") as http:
        yield http


def update(bot: TelegramBot, text: str) -> dict[str, object]:
    return {"update_id": bot.standin.next_update_id(), **message_update(ALICE, text)}


async def test_update_with_the_right_secret_is_handled(
    bot: TelegramBot, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        WEBHOOK_PATH, json=update(bot, "/start"), headers={SECRET_HEADER: WEBHOOK_SECRET}
    )
    assert response.status_code == 200
    await wait_for(lambda: bool(bot.standin.sent("sendMessage")))
    assert "Study Teddy" in bot.standin.sent("sendMessage")[0].params["text"]


async def test_update_without_the_secret_is_refused_and_logged(
    bot: TelegramBot, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bots.telegram.webhook"):
        response = await client.post(WEBHOOK_PATH, json=update(bot, "/start"))
    assert response.status_code == 401
    assert "no secret token" in caplog.text
    assert bot.application.update_queue.empty()


async def test_update_with_a_wrong_secret_is_refused_and_logged(
    bot: TelegramBot, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bots.telegram.webhook"):
        response = await client.post(
            WEBHOOK_PATH, json=update(bot, "/start"), headers={SECRET_HEADER: "guess"}
        )
    assert response.status_code == 403
    assert "wrong secret token" in caplog.text
    assert bot.application.update_queue.empty()


async def test_webhook_refuses_everything_when_no_secret_is_configured(
    bot: TelegramBot,
) -> None:
    app = FastAPI()
    unset = bot.settings.model_copy(update={"telegram_webhook_secret": None})
    app.include_router(telegram_webhook_router(bot.application, unset))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://teddy.test") as http:
        response = await http.post(
            WEBHOOK_PATH, json=update(bot, "/start"), headers={SECRET_HEADER: ""}
        )
    assert response.status_code == 403


async def test_a_redelivered_update_is_processed_once(
    bot: TelegramBot, client: httpx.AsyncClient
) -> None:
    body = update(bot, "/settings tz Asia/Tokyo")
    for _ in range(2):
        response = await client.post(
            WEBHOOK_PATH, json=body, headers={SECRET_HEADER: WEBHOOK_SECRET}
        )
        assert response.status_code == 200
    follow_up = update(bot, "/help")
    await client.post(WEBHOOK_PATH, json=follow_up, headers={SECRET_HEADER: WEBHOOK_SECRET})
    await wait_for(lambda: len(bot.standin.sent("sendMessage")) >= 2)
    texts = [c.params["text"] for c in bot.standin.sent("sendMessage")]
    assert sum("Asia/Tokyo" in t for t in texts) == 1
    # Then only the help, which may take more than one message (Telegram's 4,096 limit).
    assert texts[0].startswith("Time zone set to Asia/Tokyo")
    assert all("<code>/" in t for t in texts[1:])


async def test_a_body_that_is_not_an_update_is_a_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.post(
        WEBHOOK_PATH, content=b"not json", headers={SECRET_HEADER: WEBHOOK_SECRET}
    )
    assert response.status_code == 400


async def test_webhook_mode_registers_the_webhook_and_serves_it(core: Runtime) -> None:
    standin = TelegramStandIn()
    await standin.start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = bot_settings(core.settings, standin).model_copy(
        update={"public_base_url": f"http://127.0.0.1:{port}"}
    )
    stop = asyncio.Event()
    running = asyncio.create_task(
        run_telegram(
            replace(core, settings=settings),
            stop,
            webhook=True,
            serve_http=http_server,
            port=port,
        )
    )
    try:
        await wait_for(lambda: bool(standin.webhook), timeout=20)
        assert standin.webhook["url"] == f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
        assert standin.webhook["secret_token"] == WEBHOOK_SECRET
        body = {"update_id": 1, **message_update(ALICE, "/start")}
        async with httpx.AsyncClient() as http:
            url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
            refused = await http.post(url, json=body)
            accepted = await http.post(url, json=body, headers={SECRET_HEADER: WEBHOOK_SECRET})
        assert (refused.status_code, accepted.status_code) == (401, 200)
        await wait_for(lambda: bool(standin.sent("sendMessage")))
    finally:
        stop.set()
        await asyncio.wait_for(running, 20)
        await standin.stop()


@pytest.mark.parametrize(
    "broken",
    [
        {"message": {"message_id": 1, "chat": {"id": 111, "type": "private"}, "text": "/start"}},
        {"message": {"message_id": 1, "date": "soon", "chat": {"id": 1, "type": "private"}}},
        {"message": "not an object"},
        {"callback_query": {"id": "1", "data": "tasks.done:1"}},
    ],
)
async def test_an_update_the_library_cannot_read_is_acknowledged_and_logged(
    bot: TelegramBot,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    broken: dict[str, object],
) -> None:
    body = {"update_id": bot.standin.next_update_id(), **broken}
    with caplog.at_level(logging.WARNING, logger="bots.telegram.translate"):
        response = await client.post(
            WEBHOOK_PATH, json=body, headers={SECRET_HEADER: WEBHOOK_SECRET}
        )
    assert response.status_code == 200
    assert f"telegram update {body['update_id']} skipped" in caplog.text
    assert bot.application.update_queue.empty()
