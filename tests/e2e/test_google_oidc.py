"""Sign in with Google end to end, against a local stand-in for Google's OpenID endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.app import create_app
from core.settings import Settings
from teddy.runtime import Core
from tests.e2e.oidc_standin import FakeGoogle


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
async def app(core: Core, settings: Settings, google: FakeGoogle) -> AsyncIterator[FastAPI]:
    configured = settings.model_copy(
        update={
            "google_client_id": google.client_id,
            "google_client_secret": SecretStr(google.client_secret),
            "google_discovery_url": google.discovery_url,
            "public_base_url": "http://testserver",
        }
    )
    application = create_app(configured, core)
    await application.state.web.redis.flushdb()
    yield application
    await application.state.web.redis.aclose()


def browser(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def consent(client: httpx.AsyncClient) -> str:
    """Start sign-in and let the stand-in approve it: the callback URL Google would send."""
    start = await client.get("/auth/google")
    assert start.status_code == 302
    authorize = start.headers["location"]
    params = parse_qs(urlsplit(authorize).query)
    assert params["code_challenge_method"] == ["S256"] and params["state"] and params["nonce"]
    async with httpx.AsyncClient() as outside:
        approved = await outside.get(authorize)
    assert approved.status_code == 302, approved.text
    callback = approved.headers["location"]
    assert callback.startswith("http://testserver/auth/google/callback?")
    return callback.removeprefix("http://testserver")


async def test_google_sign_in_creates_a_user_and_signs_in(app: FastAPI) -> None:
    async with browser(app) as client:
        signed_in = await client.get(await consent(client))
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/dashboard"
        dash = await client.get("/dashboard")
        assert "Hi Gina" in dash.text
        link = await client.get("/link")
        assert "<strong>google</strong>" in link.text
    async with browser(app) as again:
        await again.get(await consent(again))
        assert "Hi Gina" in (await again.get("/dashboard")).text  # same user, not a new one


async def test_a_state_that_does_not_match_is_rejected(app: FastAPI) -> None:
    async with browser(app) as client:
        callback = await consent(client)
        tampered = callback.replace("state=", "state=evil")
        answer = await client.get(tampered)
        assert answer.status_code == 400
        assert "teddy_session" not in answer.headers.get("set-cookie", "")
        assert (await client.get("/dashboard")).status_code == 303


async def test_a_forged_id_token_is_rejected(app: FastAPI, google: FakeGoogle) -> None:
    google.forge = True
    async with browser(app) as client:
        answer = await client.get(await consent(client))
        assert answer.status_code == 400
        assert "teddy_session" not in answer.headers.get("set-cookie", "")
        assert (await client.get("/dashboard")).status_code == 303


async def test_google_is_hidden_when_not_configured(core: Core, settings: Settings) -> None:
    application = create_app(settings, core)
    async with browser(application) as client:
        assert "Sign in with Google" not in (await client.get("/login")).text
        assert (await client.get("/auth/google")).status_code == 404
    await application.state.web.redis.aclose()
