"""Sign in with Google end to end, against a local stand-in for Google's OpenID endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select, update

from api.app import create_app
from core.identity.models import User
from core.settings import Settings
from teddy.runtime import Runtime
from tests.conftest import T0
from tests.e2e.oidc_standin import FakeGoogle
from tests.integration.test_web import csrf_of, sign_up
from tests.support.mailbox import Mailbox


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture
async def app(
    core: Runtime, settings: Settings, google: FakeGoogle, mailbox: Mailbox
) -> AsyncIterator[FastAPI]:
    configured = settings.model_copy(
        update={
            "smtp_url": SecretStr(mailbox.url),
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


async def test_google_is_hidden_when_not_configured(core: Runtime, settings: Settings) -> None:
    application = create_app(settings, core)
    async with browser(application) as client:
        assert "Sign in with Google" not in (await client.get("/login")).text
        assert (await client.get("/auth/google")).status_code == 404
    await application.state.web.redis.aclose()


async def add_task(client: httpx.AsyncClient, text: str) -> None:
    token = await csrf_of(client, "/tasks")
    assert (await client.post("/tasks", data={"csrf": token, "text": text})).status_code == 303


async def users(core: Runtime) -> list[tuple[str, str | None]]:
    async with core.db.transaction() as session:
        rows = await session.execute(select(User.display_name, User.email).order_by(User.id))
        return [(name, email) for name, email in rows]


async def test_google_never_enters_a_password_account_whose_email_is_unconfirmed(
    app: FastAPI, core: Runtime
) -> None:
    """Pre-account takeover: someone signs up with Gina's address before she does."""
    async with browser(app) as mallory:
        await sign_up(mallory, "gina@example.org", "Mallory")
        await add_task(mallory, "Bait for Gina")
        async with browser(app) as gina:
            await gina.get(await consent(gina))
            assert "Hi Gina" in (await gina.get("/dashboard")).text
            assert "Bait for Gina" not in (await gina.get("/tasks")).text
            await add_task(gina, "Gina's private plans")
        assert "Gina's private plans" not in (await mallory.get("/tasks")).text
        assert "<strong>google</strong>" not in (await mallory.get("/link")).text
    # Gina's new account does not take the address either: it stays unconfirmed with the
    # password account until someone proves it (a reset link to Gina's inbox would).
    assert await users(core) == [("Mallory", "gina@example.org"), ("Gina", None)]


async def test_google_enters_a_password_account_whose_email_is_confirmed(
    app: FastAPI, core: Runtime, mailbox: Mailbox
) -> None:
    async with browser(app) as client:
        await sign_up(client, "gina@example.org", "Ana")
        confirmed = await client.get(mailbox.last_to("gina@example.org").link())
        assert "gina@example.org is confirmed" in confirmed.text
    async with browser(app) as client:
        signed_in = await client.get(await consent(client))
        assert signed_in.headers["location"] == "/dashboard"
        assert "Hi Ana" in (await client.get("/dashboard")).text
        assert "<strong>google</strong>" in (await client.get("/link")).text
    assert await users(core) == [("Ana", "gina@example.org")]


async def test_an_unverified_google_email_matches_no_account(
    app: FastAPI, core: Runtime, google: FakeGoogle
) -> None:
    google.user["email_verified"] = False
    async with browser(app) as client:
        await sign_up(client, "gina@example.org", "Ana")
    async with core.db.transaction() as session:
        await session.execute(
            update(User).where(User.email == "gina@example.org").values(email_verified_at=T0)
        )
    async with browser(app) as client:
        await client.get(await consent(client))
        assert "Hi Gina" in (await client.get("/dashboard")).text
    assert await users(core) == [("Ana", "gina@example.org"), ("Gina", None)]
