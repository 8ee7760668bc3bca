"""One deployment serving many Slack workspaces: each installs the app through bolt's real
OAuth flow (/slack/install -> Slack's consent page -> /slack/oauth_redirect), the token
exchange goes to the Web API stand-in, and from then on every request, reply, reminder and
file download of a workspace uses that workspace's own bot token."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import func, select, text

from bots.slack.adapter import OAuthConfig, SlackAdapter
from core.chat import Ctx, Reply
from core.clock import FixedClock
from core.identity.models import Identity
from core.installations.models import Installation
from core.installations.sealing import Sealer, UnsealError
from core.jobs import JobContext, run_job
from core.outbox.models import OutboxMessage
from teddy.runtime import Runtime
from tests.e2e import test_slack as base
from tests.e2e.test_slack import SECRET, file_share, post_event, post_form, slash
from tests.support.slack_standin import SlackStandIn

# The same stand-in and HTTP client fixtures; `http` serves the OAuth `slack` below.
standin, http = base.standin, base.http

COOKIE = "slack-app-oauth-state"


@pytest.fixture
async def slack(core: Runtime, standin: SlackStandIn) -> SlackAdapter:
    oauth = OAuthConfig(
        client_id=standin.client_id,
        client_secret=standin.client_secret,
        scopes=("commands", "chat:write", "im:history"),
    )
    return SlackAdapter(core, signing_secret=SECRET, api_url=standin.api_url, oauth=oauth)


async def begin_install(http: httpx.AsyncClient) -> str:
    """Open the install link as a browser would; returns the state Slack will hand back."""
    response = await http.get("/slack/install")
    assert response.status_code == 302
    location = urlparse(response.headers["location"])
    query = parse_qs(location.query)
    assert (location.netloc, location.path) == ("slack.com", "/oauth/v2/authorize")
    assert query["client_id"] == ["111.222"]
    assert query["scope"] == ["commands,chat:write,im:history"]
    state = query["state"][0]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={state};") and "HttpOnly" in cookie
    return state


async def finish_install(
    http: httpx.AsyncClient, code: str, state: str, cookie_state: str | None = None
) -> httpx.Response:
    """Slack's redirect back, from the browser holding the state cookie."""
    cookie = f"{COOKIE}={cookie_state if cookie_state is not None else state}"
    return await http.get(
        "/slack/oauth_redirect", params={"code": code, "state": state}, headers={"Cookie": cookie}
    )


async def install(http: httpx.AsyncClient, standin: SlackStandIn, team: str, token: str) -> None:
    code = standin.add_workspace(team, token)
    response = await finish_install(http, code, await begin_install(http))
    assert response.status_code == 200, response.text


@pytest.fixture
async def two_workspaces(http: httpx.AsyncClient, standin: SlackStandIn) -> None:
    """The app installed through the OAuth flow in TA (token xoxb-A) and TB (xoxb-B)."""
    await install(http, standin, "TA", "xoxb-A")
    await install(http, standin, "TB", "xoxb-B")


async def installed(core: Runtime) -> list[str]:
    async with core.db.transaction() as session:
        rows = await session.scalars(select(Installation.workspace_id).order_by("workspace_id"))
        return list(rows)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


@pytest.mark.usefixtures("two_workspaces")
async def test_two_workspaces_install_and_each_is_answered_with_its_own_token(
    core: Runtime, http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    assert await installed(core) == ["TA", "TB"]
    assert len(standin.named("oauth.v2.access")) == 2  # the exchange went to SLACK_API_URL

    await post_form(http, slash("settings tz Europe/Berlin", team="TA", trigger="a1"))
    await standin.wait_for("chat.postMessage")
    await post_form(http, slash("settings tz Asia/Tokyo", team="TB", trigger="b1"))
    posted = await standin.wait_for("chat.postMessage", 2)
    # The same channel and user ids in two workspaces: two conversations, two tokens.
    assert [(c.token, c.params["channel"]) for c in posted] == [
        ("xoxb-A", "D100"),
        ("xoxb-B", "D100"),
    ]
    assert "Europe/Berlin" in posted[0].params["text"]
    assert "Asia/Tokyo" in posted[1].params["text"]
    async with core.db.transaction() as session:
        rows = (await session.execute(select(Identity.external_id, Identity.user_id))).all()
    people = dict(rows)
    assert set(people) == {"TA:U1", "TB:U1"} and people["TA:U1"] != people["TB:U1"]


@pytest.mark.usefixtures("two_workspaces")
async def test_one_workspaces_tasks_are_not_seen_from_another(
    http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    await post_form(http, slash("task Secret essay fri 5pm", team="TA", trigger="a1"))
    await standin.wait_for("chat.postMessage")
    await post_form(http, slash("tasks", team="TB", trigger="b1"))
    await post_form(http, slash("tasks", team="TA", trigger="a2"))
    posted = await standin.wait_for("chat.postMessage", 3)
    by_token = {c.token: c.params["text"] for c in posted[1:]}
    assert "Secret essay" in by_token["xoxb-A"]
    assert "Secret essay" not in by_token["xoxb-B"]


async def queue_a_reminder_in_each_workspace(
    core: Runtime, http: httpx.AsyncClient, standin: SlackStandIn, clock: FixedClock
) -> None:
    """A task due at 10:00 in TA (Essay) and TB (Lab); an hour on, the sweep queues both
    reminders."""
    await post_form(http, slash("task Essay today 10am", team="TA", trigger="a1"))
    await standin.wait_for("chat.postMessage")
    await post_form(http, slash("task Lab today 10am", team="TB", trigger="b1"))
    await standin.wait_for("chat.postMessage", 2)
    clock.advance(timedelta(hours=1))
    await run_job("tasks.sweep_reminders", JobContext(core.db, core.services), {})


@pytest.mark.usefixtures("two_workspaces")
async def test_each_workspaces_reminder_is_delivered_with_its_own_token(
    core: Runtime,
    slack: SlackAdapter,
    http: httpx.AsyncClient,
    standin: SlackStandIn,
    clock: FixedClock,
) -> None:
    await queue_a_reminder_in_each_workspace(core, http, standin, clock)
    async with core.db.transaction() as session:
        queued = list(await session.scalars(select(OutboxMessage.chat_id).order_by("chat_id")))
    assert queued == ["TA:D100", "TB:D100"]
    await slack.deliverer().deliver_round()
    reminders = (await standin.wait_for("chat.postMessage", 4))[2:]
    sent = sorted((c.token, c.params["channel"], c.params["text"]) for c in reminders)
    assert [(token, channel) for token, channel, _ in sent] == [
        ("xoxb-A", "D100"),
        ("xoxb-B", "D100"),
    ]
    assert "Essay" in sent[0][2] and "Lab" in sent[1][2]


@pytest.mark.usefixtures("two_workspaces")
async def test_a_workspace_that_is_rate_limited_holds_back_only_its_own_reminders(
    core: Runtime,
    slack: SlackAdapter,
    http: httpx.AsyncClient,
    standin: SlackStandIn,
    clock: FixedClock,
) -> None:
    await queue_a_reminder_in_each_workspace(core, http, standin, clock)

    standin.rate_limit_token["xoxb-A"] = 30
    deliverer = slack.deliverer()
    await deliverer.deliver_round()
    answered = [c for c in standin.named("chat.postMessage")[2:]]
    assert sorted((c.token, c.status) for c in answered) == [("xoxb-A", 429), ("xoxb-B", 200)]
    async with core.db.transaction() as session:
        rows = await session.execute(select(OutboxMessage.chat_id, OutboxMessage.delivered_at))
        delivered = {chat_id: at is not None for chat_id, at in rows}
    assert delivered == {"TA:D100": False, "TB:D100": True}
    # TA waits out its Retry-After; TB's chats are free again after the usual one second.
    now = deliverer.pacer.now()
    assert deliverer.pacer.chat_free_at("TA:D200", False) >= now + 29
    assert deliverer.pacer.chat_free_at("TB:D200", False) <= now


@pytest.mark.usefixtures("two_workspaces")
async def test_a_file_shared_in_a_workspace_is_downloaded_with_its_token(
    core: Runtime, http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    received: list[bytes] = []

    async def on_file(ctx: Ctx, text: str) -> Reply:
        received.extend([await a.fetch() for a in ctx.incoming.attachments])
        return Reply.text("got it")

    core.dispatcher.router.file_handler = on_file
    standin.files["notes.md"] = b"# Notes of team B"
    standin.file_tokens["notes.md"] = "xoxb-B"
    event = file_share(standin, "notes.md", 17)
    await post_event(http, event, "Ev-file-B", team="TB")
    reply = (await standin.wait_for("chat.postMessage"))[0]
    assert (reply.token, reply.params["text"]) == ("xoxb-B", "got it")
    assert received == [b"# Notes of team B"]
    assert standin.tokens_of("file") == ["xoxb-B"]


async def test_forged_reused_expired_or_foreign_states_install_nothing(
    core: Runtime, http: httpx.AsyncClient, standin: SlackStandIn, clock: FixedClock
) -> None:
    code = standin.add_workspace("TA", "xoxb-A")
    forged = await finish_install(http, code, "forged-state")
    assert forged.status_code == 401  # a state we never issued

    first, second = await begin_install(http), await begin_install(http)
    foreign = await finish_install(http, code, first, cookie_state=second)
    assert foreign.status_code == 400  # the state came back to another browser

    stale = await begin_install(http)
    clock.advance(timedelta(minutes=11))
    assert (await finish_install(http, code, stale)).status_code == 401
    assert standin.named("oauth.v2.access") == [] and await installed(core) == []

    good = await begin_install(http)
    assert (await finish_install(http, code, good)).status_code == 200
    again = await finish_install(http, standin.add_workspace("TB", "xoxb-B"), good)
    assert again.status_code == 401  # a state is good once
    assert len(standin.named("oauth.v2.access")) == 1
    assert await installed(core) == ["TA"]


async def test_a_bad_code_installs_nothing(
    core: Runtime, http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    response = await finish_install(http, "not-a-code", await begin_install(http))
    assert response.status_code == 401
    assert [c.params.get("code") for c in standin.named("oauth.v2.access")] == ["not-a-code"]
    assert await installed(core) == []


async def test_bot_tokens_are_stored_sealed_and_never_logged(
    core: Runtime, http: httpx.AsyncClient, standin: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await install(http, standin, "TA", "xoxb-A-secret-token")
    await post_form(http, slash("help", team="TA"))
    await standin.wait_for("chat.postMessage")
    async with core.db.transaction() as session:
        raw = await session.scalar(
            text("SELECT bot_token_sealed FROM installations WHERE workspace_id = 'TA'")
        )
    assert isinstance(raw, str) and "xoxb" not in raw
    assert Sealer(core.settings.resolved_secret_key()).open(raw) == "xoxb-A-secret-token"
    with pytest.raises(UnsealError):
        Sealer("another-secret-key").open(raw)
    assert caplog.records  # logging was on
    assert not [r for r in caplog.records if "xoxb-A-secret" in r.getMessage()]


@pytest.mark.usefixtures("two_workspaces")
async def test_uninstalling_or_revoking_forgets_the_workspace(
    core: Runtime,
    slack: SlackAdapter,
    http: httpx.AsyncClient,
    standin: SlackStandIn,
    clock: FixedClock,
) -> None:
    await install(http, standin, "TC", "xoxb-C")
    await post_form(http, slash("task Essay today 10am", team="TA", trigger="a1"))
    await standin.wait_for("chat.postMessage")

    standin.revoke("xoxb-A")
    await post_event(http, {"type": "app_uninstalled"}, "Ev-gone-A", team="TA")
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}
    await post_event(http, revoked, "Ev-gone-B", team="TB")

    async def only_c_left() -> bool:
        return await installed(core) == ["TC"]

    await eventually(only_c_left)

    # Requests from the workspace that left are refused (bolt says so at the response_url).
    respond_at = f"{standin.url}/respond/1"
    command = {**slash("tasks", team="TA", trigger="a2"), "response_url": respond_at}
    await post_form(http, command)
    await standin.wait_for("response_url")
    # Its queued reminder goes nowhere and is not retried; the user is marked unreachable.
    clock.advance(timedelta(hours=1))
    await run_job("tasks.sweep_reminders", JobContext(core.db, core.services), {})
    await slack.deliverer().deliver_round()
    assert standin.tokens_of("chat.postMessage") == ["xoxb-A"]  # the task's confirmation
    async with core.db.transaction() as session:
        row = await session.scalar(select(OutboxMessage))
        unreachable = await session.scalar(
            select(Identity.unreachable).where(Identity.external_id == "TA:U1")
        )
        left = await session.scalar(select(func.count()).select_from(Installation))
    assert row is not None and row.delivered_at is None
    assert "not installed" in (row.last_error or "")
    assert unreachable is True and left == 1


async def test_events_from_a_workspace_that_never_installed_are_not_handled(
    http: httpx.AsyncClient, standin: SlackStandIn
) -> None:
    await install(http, standin, "TA", "xoxb-A")
    command = {**slash("help", team="TX"), "response_url": f"{standin.url}/respond/2"}
    assert (await post_form(http, command)).status_code == 200
    said = (await standin.wait_for("response_url"))[0]
    assert "install" in json.dumps(said.params).lower()
    assert standin.named("chat.postMessage") == []
