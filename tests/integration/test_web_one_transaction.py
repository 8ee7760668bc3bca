"""The web layer translates and nothing more: one transaction per request (shared with the
sign-in check), the same settings rule as chat, and errors without chat hints."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.app import create_app
from core.db.counting import counting
from core.identity.models import User
from core.settings import Settings
from teddy.runtime import Runtime
from tests.integration.test_web import browser, csrf_of, new_api_token, sign_up


@pytest.fixture
async def app(core: Runtime, settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, core)
    await application.state.web.redis.flushdb()
    yield application
    await application.state.web.redis.aclose()


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard",
        "/tasks",
        "/decks",
        "/rooms",
        "/review",
        "/settings",
        "/link",
        "/documents",
        "/documents/ask",
        "/tutor",
        "/plan",
    ],
)
async def test_a_signed_in_page_is_one_transaction(app: FastAPI, core: Runtime, path: str) -> None:
    async with browser(app) as client:
        await sign_up(client, "one@example.org")
        await client.get(path)  # warm caches (the zone list, compiled statements)
        with counting(core.db.engine) as count:
            page = await client.get(path)
    assert page.status_code == 200, page.text
    assert count.transactions == 1, count.texts


async def test_a_form_post_and_its_sign_in_check_are_one_transaction(
    app: FastAPI, core: Runtime
) -> None:
    async with browser(app) as client:
        await sign_up(client, "post@example.org")
        token = await csrf_of(client, "/tasks")
        with counting(core.db.engine) as count:
            added = await client.post("/tasks", data={"csrf": token, "text": "Essay fri"})
    assert added.status_code == 303, added.text
    assert count.transactions == 1, count.texts


async def test_a_rest_call_and_its_token_check_are_one_transaction(
    app: FastAPI, core: Runtime
) -> None:
    async with browser(app) as client:
        await sign_up(client, "rest@example.org")
        secret = await new_api_token(client)
    headers = {"authorization": f"Bearer {secret}"}
    async with browser(app) as api:
        with counting(core.db.engine) as count:
            listed = await api.get("/api/v1/tasks", headers=headers)
    assert listed.status_code == 200, listed.text
    assert count.transactions == 1, count.texts


async def test_a_settings_form_with_one_bad_value_changes_nothing(
    app: FastAPI, core: Runtime
) -> None:
    async with browser(app) as client:
        await sign_up(client, "settings@example.org")
        token = await csrf_of(client, "/settings")
        refused = await client.post(
            "/settings",
            data={
                "csrf": token,
                "display_name": "New Name",
                "timezone": "Asia/Tokyo",
                "quiet": "late at night",
                "digest": "07:30",
            },
        )
    assert refused.status_code == 400
    assert "22:00-07:00" in refused.text
    assert "/settings quiet" not in refused.text  # the chat's hint stays in chat
    async with core.db.transaction() as session:
        user = await session.scalar(select(User).where(User.email == "settings@example.org"))
    assert user is not None
    assert user.timezone != "Asia/Tokyo"
    assert user.display_name != "New Name"
    assert user.digest_time is None


async def test_a_rest_error_says_what_is_wrong_without_the_chat_hint(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "hint@example.org")
        secret = await new_api_token(client)
    async with browser(app) as api:
        missing = await api.get("/api/v1/cards/4321", headers={"authorization": f"Bearer {secret}"})
    assert missing.status_code == 404
    # In chat the same error goes on: "/cards lists them."
    assert missing.json() == {"detail": "There is no card 4321 in your decks."}
