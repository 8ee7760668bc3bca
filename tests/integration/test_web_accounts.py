"""The web account's own security: addresses confirmed by email, password reset over a
real SMTP server, changes that need the current password, API token scopes and expiry,
link codes, and the client address and scheme behind the shipped reverse proxy."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import func, select

from api.app import create_app
from core.clock import FixedClock
from core.identity.models import Identity, User
from core.settings import Settings
from teddy.cli_api import api_server
from teddy.cli_up import free_port
from teddy.runtime import Runtime
from tests.integration.test_web import PASSWORD, browser, csrf_of, new_api_token, sign_up
from tests.support.mailbox import Mailbox

NEW_PASSWORD = "a much longer passphrase"
POWERS = {"scope:tokens:create": "1", "scope:link-codes:create": "1", "password": PASSWORD}


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


async def _app(core: Runtime, settings: Settings, **update: object) -> FastAPI:
    application = create_app(settings.model_copy(update=update), core)
    await application.state.web.redis.flushdb()
    return application


@pytest.fixture
async def app(core: Runtime, settings: Settings, mailbox: Mailbox) -> AsyncIterator[FastAPI]:
    application = await _app(
        core, settings, smtp_url=SecretStr(mailbox.url), public_base_url="http://testserver"
    )
    yield application
    await application.state.web.redis.aclose()


@pytest.fixture
async def no_mail_app(core: Runtime, settings: Settings) -> AsyncIterator[FastAPI]:
    application = await _app(core, settings)
    yield application
    await application.state.web.redis.aclose()


def api(app: FastAPI, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"authorization": f"Bearer {token}"},
    )


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    token = await csrf_of(client, "/login")
    return await client.post("/login", data={"csrf": token, "email": email, "password": password})


async def signed_in(client: httpx.AsyncClient) -> bool:
    return (await client.get("/dashboard")).status_code == 200


async def verified_at(core: Runtime, email: str) -> object:
    async with core.db.transaction() as session:
        return await session.scalar(select(User.email_verified_at).where(User.email == email))


# Confirming the address ------------------------------------------------------------------


async def test_sign_up_mails_a_link_that_confirms_the_address(
    app: FastAPI, core: Runtime, mailbox: Mailbox
) -> None:
    async with browser(app) as client:
        await sign_up(client, "ana@example.org")
        assert "not confirmed" in (await client.get("/settings")).text
        assert await verified_at(core, "ana@example.org") is None
        mail = mailbox.last_to("ana@example.org")
        assert mail.message["Subject"] == "Confirm your email for Study Teddy"
    async with browser(app) as other_device:  # the link works in any browser
        opened = await other_device.get(mail.link())
        assert opened.status_code == 200 and "ana@example.org is confirmed" in opened.text
    assert await verified_at(core, "ana@example.org") is not None
    forged = mail.link()[:-3] + "abc"
    async with browser(app) as client:
        assert (await client.get(forged)).status_code == 400


async def test_the_confirmation_link_can_be_sent_again_until_the_address_is_confirmed(
    app: FastAPI, mailbox: Mailbox
) -> None:
    async with browser(app) as client:
        await sign_up(client, "again@example.org")
        csrf = await csrf_of(client, "/settings")
        resent = await client.post("/settings/verify", data={"csrf": csrf})
        assert resent.headers["location"] == "/settings?sent=1"
        assert mailbox.count_to("again@example.org") == 2
        await client.get(mailbox.last_to("again@example.org").link())
        await client.post("/settings/verify", data={"csrf": csrf})
        assert mailbox.count_to("again@example.org") == 2  # confirmed: nothing to send


async def test_a_mail_server_that_is_down_gets_a_clear_message(
    core: Runtime, settings: Settings
) -> None:
    down = await _app(core, settings, smtp_url=SecretStr(f"smtp://127.0.0.1:{free_port()}"))
    async with browser(down) as client:
        assert (await sign_up(client, "down@example.org")).status_code == 303
        asked = await ask_for_reset(client, "down@example.org")
        assert asked.status_code == 503 and "could not be sent" in asked.text
        csrf = await csrf_of(client, "/settings")
        resent = await client.post("/settings/verify", data={"csrf": csrf})
        assert resent.status_code == 503 and "could not be sent" in resent.text
    await down.state.web.redis.aclose()


async def test_a_confirmation_link_expires(
    app: FastAPI, core: Runtime, mailbox: Mailbox, clock: FixedClock
) -> None:
    async with browser(app) as client:
        await sign_up(client, "late@example.org")
        clock.advance(timedelta(days=2, minutes=1))
        late = await client.get(mailbox.last_to("late@example.org").link())
        assert late.status_code == 400 and "not valid" in late.text
    assert await verified_at(core, "late@example.org") is None


async def test_duplicate_email_sign_up_is_refused_and_makes_no_second_account(
    app: FastAPI, core: Runtime
) -> None:
    async with browser(app) as first, browser(app) as second:
        assert (await sign_up(first, "dup@example.org", "First")).status_code == 303
        again = await sign_up(second, " DUP@example.org", "Second")
        assert again.status_code == 400 and "already an account" in again.text
        assert "teddy_session" not in again.headers.get("set-cookie", "")
    async with core.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1


# Password reset ---------------------------------------------------------------------------


async def ask_for_reset(client: httpx.AsyncClient, email: str) -> httpx.Response:
    token = await csrf_of(client, "/forgot-password")
    return await client.post("/forgot-password", data={"csrf": token, "email": email})


async def choose_password(client: httpx.AsyncClient, link: str, password: str) -> httpx.Response:
    form = await client.get(link)
    if form.status_code != 200:
        return form
    token = re.search(r'name="token" value="([^"]+)"', form.text)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token and csrf, form.text
    return await client.post(
        "/reset-password",
        data={"csrf": csrf.group(1), "token": token.group(1), "password": password},
    )


async def test_reset_link_sets_a_password_once_and_signs_out_everyone_else(
    app: FastAPI, core: Runtime, mailbox: Mailbox
) -> None:
    async with browser(app) as owner, browser(app) as laptop, browser(app) as forgetful:
        await sign_up(owner, "reset@example.org")
        await sign_in(laptop, "reset@example.org", PASSWORD)
        script = await new_api_token(owner)
        asked = await ask_for_reset(forgetful, "reset@example.org")
        assert "a link to choose a new password is on its way" in asked.text
        link = mailbox.last_to("reset@example.org").link()

        done = await choose_password(forgetful, link, NEW_PASSWORD)
        assert done.status_code == 303 and done.headers["location"] == "/settings?reset=1"
        assert await signed_in(forgetful)
        assert not await signed_in(owner) and not await signed_in(laptop)
        async with api(app, script) as scripted:
            assert (await scripted.get("/api/v1/me")).status_code == 401
        # The link proved the address.
        assert await verified_at(core, "reset@example.org") is not None

        again = await choose_password(forgetful, link, "yet another passphrase")
        assert again.status_code == 400 and "not valid" in again.text
    async with browser(app) as client:
        assert (await sign_in(client, "reset@example.org", PASSWORD)).status_code == 401
        assert (await sign_in(client, "reset@example.org", NEW_PASSWORD)).status_code == 303


async def test_a_reset_link_expires_after_an_hour(
    app: FastAPI, mailbox: Mailbox, clock: FixedClock
) -> None:
    async with browser(app) as client:
        await sign_up(client, "hour@example.org")
        await ask_for_reset(client, "hour@example.org")
        clock.advance(timedelta(hours=1, minutes=1))
        late = await choose_password(client, mailbox.last_to("hour@example.org").link(), "x" * 12)
        assert late.status_code == 400 and "not valid" in late.text


async def test_forgot_password_answers_the_same_for_an_unknown_address(
    app: FastAPI, mailbox: Mailbox
) -> None:
    async with browser(app) as client:
        asked = await ask_for_reset(client, "nobody@example.org")
        assert asked.status_code == 200 and "is on its way" in asked.text
    assert mailbox.count_to("nobody@example.org") == 0


async def test_without_smtp_the_pages_say_that_no_mail_can_be_sent(no_mail_app: FastAPI) -> None:
    async with browser(no_mail_app) as client:
        form = await client.get("/forgot-password")
        assert "cannot send email" in form.text and "SMTP_URL" in form.text
        token = await csrf_of(client, "/login")  # the form is not shown; post it anyway
        asked = await client.post(
            "/forgot-password", data={"csrf": token, "email": "who@example.org"}
        )
        assert asked.status_code == 503 and "cannot send email" in asked.text
        await sign_up(client, "who@example.org")
        settings = await client.get("/settings")
        assert "not confirmed" in settings.text and "cannot send email" in settings.text


# Changing the password or the email -------------------------------------------------------


async def change(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    token = await csrf_of(client, "/settings")
    return await client.post("/settings/sign-in", data={"csrf": token, **fields})


async def test_changing_the_password_needs_the_current_one_and_signs_out_other_browsers(
    app: FastAPI,
) -> None:
    async with browser(app) as here, browser(app) as there:
        await sign_up(here, "pw@example.org")
        await sign_in(there, "pw@example.org", PASSWORD)
        wrong = await change(
            here, email="pw@example.org", current_password="guess-guess", new_password=NEW_PASSWORD
        )
        assert wrong.status_code == 400 and "current password is not right" in wrong.text
        assert await signed_in(there)
        missing = await change(here, email="pw@example.org", new_password=NEW_PASSWORD)
        assert missing.status_code == 400
        done = await change(
            here, email="pw@example.org", current_password=PASSWORD, new_password=NEW_PASSWORD
        )
        assert done.status_code == 303
        assert await signed_in(here) and not await signed_in(there)
        assert (await sign_in(there, "pw@example.org", NEW_PASSWORD)).status_code == 303


async def test_a_new_email_needs_the_password_and_is_unconfirmed_until_its_own_link(
    app: FastAPI, core: Runtime, mailbox: Mailbox
) -> None:
    async with browser(app) as here, browser(app) as there:
        await sign_up(here, "old@example.org")
        old_link = mailbox.last_to("old@example.org").link()
        await here.get(old_link)
        assert await verified_at(core, "old@example.org") is not None
        await sign_in(there, "old@example.org", PASSWORD)
        refused = await change(here, email="new@example.org", current_password="not-it-at-all")
        assert refused.status_code == 400 and await verified_at(core, "old@example.org")

        done = await change(here, email="new@example.org", current_password=PASSWORD)
        assert done.status_code == 303
        assert not await signed_in(there)
        assert (
            "new@example.org is <strong>not confirmed</strong>"
            in (await here.get("/settings")).text
        )
        await here.get(old_link)  # the old address's link does not confirm the new one
        assert await verified_at(core, "new@example.org") is None
        confirmed = await here.get(mailbox.last_to("new@example.org").link())
        assert confirmed.status_code == 200
        assert await verified_at(core, "new@example.org") is not None


# API tokens -------------------------------------------------------------------------------


async def test_a_plain_token_cannot_make_tokens_or_link_codes(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "plain@example.org")
        async with api(app, await new_api_token(client)) as scripted:
            assert (await scripted.get("/api/v1/me")).status_code == 200
            minted = await scripted.post("/api/v1/tokens", json={"name": "more"})
            assert minted.status_code == 403 and "tokens:create" in minted.text
            code = await scripted.post("/api/v1/link-codes")
            assert code.status_code == 403 and "link-codes:create" in code.text
            linked = await scripted.post("/api/v1/link", json={"code": "ABCD-EFGH"})
            assert linked.status_code == 403
            assert len((await scripted.get("/api/v1/tokens")).json()) == 1


async def test_a_read_only_token_cannot_change_anything(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "ro@example.org")
        token = await csrf_of(client, "/settings")
        made = await client.post("/tokens", data={"csrf": token, "name": "ro", "scope:read": "1"})
        secret = re.search(r'id="new-token">([^<]+)<', made.text)
        assert secret, made.text
        async with api(app, secret.group(1)) as scripted:
            assert (await scripted.get("/api/v1/tasks")).status_code == 200
            wrote = await scripted.post("/api/v1/tasks", json={"text": "Essay fri 5pm"})
            assert wrote.status_code == 403 and "'write'" in wrote.text
            assert (await scripted.get("/api/v1/tasks")).json()["total"] == 0


async def test_powerful_scopes_are_given_only_with_the_password(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "power@example.org")
        token = await csrf_of(client, "/settings")
        form = {"csrf": token, "name": "p", "scope:read": "1", "scope:tokens:create": "1"}
        refused = await client.post("/tokens", data=form)
        assert refused.status_code == 400 and "current password" in refused.text
        wrong = await client.post("/tokens", data={**form, "password": "not the password"})
        assert wrong.status_code == 400
        assert 'id="new-token"' not in wrong.text
        made = await client.post("/tokens", data={**form, "password": PASSWORD})
        assert 'id="new-token"' in made.text and "read tokens:create" in made.text


async def test_revoking_a_token_revokes_the_tokens_and_link_codes_it_made(
    app: FastAPI, make_chat
) -> None:  # type: ignore[no-untyped-def]
    async with browser(app) as client:
        await sign_up(client, "parent@example.org")
        parent = await new_api_token(client, **POWERS)
        async with api(app, parent) as scripted:
            too_strong = await scripted.post(
                "/api/v1/tokens", json={"name": "c", "scopes": ["tokens:create"]}
            )
            assert too_strong.status_code == 422
            made = await scripted.post("/api/v1/tokens", json={"name": "child", "scopes": ["read"]})
            assert made.status_code == 201 and made.json()["scopes"] == ["read"]
            child = made.json()["token"]
            code = (await scripted.post("/api/v1/link-codes")).json()["code"]
            parent_id = next(t["id"] for t in (await scripted.get("/api/v1/tokens")).json())
        async with api(app, child) as by_child:
            assert (await by_child.get("/api/v1/me")).status_code == 200
            assert (await by_child.post("/api/v1/tokens", json={})).status_code == 403
        csrf = await csrf_of(client, "/settings")
        await client.post(f"/tokens/{parent_id}/delete", data={"csrf": csrf})
        async with api(app, child) as by_child:
            assert (await by_child.get("/api/v1/me")).status_code == 401
    assert "not valid" in await make_chat("zed").say(f"/link {code}")


async def test_sign_out_everywhere_revokes_api_tokens(app: FastAPI) -> None:
    async with browser(app) as client:
        await sign_up(client, "out@example.org")
        secret = await new_api_token(client)
        csrf = await csrf_of(client, "/settings")
        await client.post("/logout", data={"csrf": csrf, "everywhere": "1"})
    async with api(app, secret) as scripted:
        assert (await scripted.get("/api/v1/me")).status_code == 401


async def test_tokens_expire(app: FastAPI, clock: FixedClock) -> None:
    async with browser(app) as client:
        await sign_up(client, "week@example.org")
        secret = await new_api_token(client, days="7")
        assert "expires 2026-12-02" in (await client.get("/settings")).text
    async with api(app, secret) as scripted:
        assert (await scripted.get("/api/v1/me")).status_code == 200
        clock.advance(timedelta(days=7, minutes=1))
        expired = await scripted.get("/api/v1/me")
        assert expired.status_code == 401 and "expired" in expired.text


# Link codes and identities ----------------------------------------------------------------


async def test_a_new_link_code_voids_the_older_ones(app: FastAPI, make_chat) -> None:  # type: ignore[no-untyped-def]
    async with browser(app) as client:
        await sign_up(client, "codes@example.org")
        codes = []
        for _ in range(2):
            page = await client.post("/link/code", data={"csrf": await csrf_of(client, "/link")})
            found = re.search(r"/link ([A-Z0-9-]+)</code>", page.text)
            assert found
            codes.append(found.group(1))
    assert "not valid" in await make_chat("first").say(f"/link {codes[0]}")
    assert "Linked" in await make_chat("second").say(f"/link {codes[1]}")


async def test_unlinking_another_users_identity_is_refused_like_a_missing_one(
    app: FastAPI, core: Runtime, chat
) -> None:  # type: ignore[no-untyped-def]
    code = (await chat.say("/link")).split("code: ")[1].split(" ")[0]
    async with browser(app) as ana, browser(app) as ben:
        await sign_up(ana, "ana@example.org")
        await ana.post("/link", data={"csrf": await csrf_of(ana, "/link"), "code": code})
        async with core.db.transaction() as session:
            alice_identity = await session.scalar(
                select(Identity.id).where(Identity.external_id == "alice")
            )
        assert alice_identity is not None
        await sign_up(ben, "ben@example.org", "Ben")
        csrf = await csrf_of(ben, "/link")
        page = await ben.post(f"/identities/{alice_identity}/unlink", data={"csrf": csrf})
        assert page.status_code == 404
        async with api(app, await new_api_token(ben)) as as_ben:
            assert (await as_ben.delete(f"/api/v1/identities/{alice_identity}")).status_code == 404
        missing = await ben.post("/identities/999999/unlink", data={"csrf": csrf})
        assert missing.status_code == 404 and missing.text == page.text
        assert "<strong>test</strong>" in (await ana.get("/link")).text
    async with core.db.transaction() as session:
        assert await session.get(Identity, alice_identity) is not None


# Behind the reverse proxy -----------------------------------------------------------------

PROXY = "10.0.3.7"  # nginx, as the API's replicas see it: not 127.0.0.1


def through(app: object, peer: str, **headers: str) -> httpx.AsyncClient:
    """A client whose TCP peer is `peer`, sending `headers` (the proxy's X-Forwarded-*)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(peer, 40000)),  # type: ignore[arg-type]
        base_url="http://testserver",
        headers=headers,
    )


@pytest.fixture
async def served(core: Runtime, settings: Settings) -> AsyncIterator[object]:
    """The app and the ASGI app uvicorn runs for `teddy api` with FORWARDED_ALLOW_IPS set
    as deploy/ sets it (the proxy's network)."""
    configured = settings.model_copy(update={"forwarded_allow_ips": "10.0.3.0/24"})
    application = await _app(core, configured)
    server = api_server(configured, application, "127.0.0.1", 0)
    server.config.load()
    yield server.config.loaded_app
    await application.state.web.redis.aclose()


async def failed_sign_ins(client: httpx.AsyncClient, count: int) -> list[int]:
    token = await csrf_of(client, "/login")
    codes = []
    for n in range(count):
        answer = await client.post(
            "/login", data={"csrf": token, "email": f"u{n}@example.org", "password": "wrong"}
        )
        codes.append(answer.status_code)
    return codes


async def test_behind_the_proxy_each_client_has_its_own_sign_in_limit_and_cannot_spoof_one(
    served: object, settings: Settings
) -> None:
    asgi = served
    limit = settings.signin_rate_per_minute
    async with through(asgi, PROXY, **{"x-forwarded-for": "203.0.113.7"}) as first:
        assert (await failed_sign_ins(first, limit + 1))[-1] == 429
    async with through(asgi, PROXY, **{"x-forwarded-for": "198.51.100.9"}) as second:
        assert await failed_sign_ins(second, 1) == [401]  # not the first client's bucket
    # A peer that is not the proxy: its X-Forwarded-For is ignored, both ways.
    spoofed = {"x-forwarded-for": "198.51.100.9"}
    async with through(asgi, "192.0.2.50", **spoofed) as outsider:
        assert (await failed_sign_ins(outsider, limit + 1))[-1] == 429
    async with through(asgi, PROXY, **{"x-forwarded-for": "198.51.100.9"}) as second:
        assert await failed_sign_ins(second, 1) == [401]
    blame = {"x-forwarded-for": "203.0.113.7"}
    async with through(asgi, "192.0.2.51", **blame) as outsider:
        assert await failed_sign_ins(outsider, 1) == [401]
    # The proxy appends the real peer: whatever the client put first is not believed.
    chain = {"x-forwarded-for": "203.0.113.7, 198.51.100.20"}
    async with through(asgi, PROXY, **chain) as forged:
        assert await failed_sign_ins(forged, 1) == [401]


async def session_cookie_of_sign_up(client: httpx.AsyncClient, email: str) -> str:
    """Sign up and return the session's Set-Cookie header. The form's cookie is sent by hand:
    a client on http:// would not send back a cookie marked Secure."""
    form = await client.get("/signup")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    made = await client.post(
        "/signup",
        data={"csrf": csrf.group(1), "email": email, "password": PASSWORD},
        headers={"cookie": f"teddy_csrf={csrf.group(1)}"},
    )
    assert made.status_code == 303, made.text
    return next(v for v in made.headers.get_list("set-cookie") if "teddy_session" in v).lower()


async def test_the_session_cookie_is_secure_over_https(
    served: object, core: Runtime, settings: Settings
) -> None:
    asgi = served
    https = {"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.8"}
    async with through(asgi, PROXY, **https) as client:
        assert "; secure" in await session_cookie_of_sign_up(client, "tls@example.org")
    async with through(asgi, "192.0.2.60", **https) as client:  # not the proxy: plain http
        assert "; secure" not in await session_cookie_of_sign_up(client, "plain@example.org")
    public = await _app(core, settings, public_base_url="https://teddy.example.org")
    async with browser(public) as client:
        assert "; secure" in await session_cookie_of_sign_up(client, "public@example.org")
    await public.state.web.redis.aclose()
