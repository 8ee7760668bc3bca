"""No secret reaches a log: the Telegram bot and the API run with a known bot token, OAuth
parameters and a calendar feed URL, with logging at DEBUG/INFO, and all their output is
searched for them."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import discord
import httpx
import pytest
import yarl

from bots.discord.adapter import TeddyDiscord
from core.logs import QUIET_LOGGERS, configure_logging
from teddy.cli_up import free_port
from teddy.runtime import Runtime
from teddy.servers import Servers
from tests.e2e.test_discord import slash as discord_slash
from tests.e2e.test_slack import SECRET, signed_headers, slash
from tests.e2e.test_slack_cli import wait_until_up
from tests.e2e.web_process import environment
from tests.support.discord_standin import DiscordStandIn
from tests.support.slack_standin import SlackStandIn
from tests.support.telegram_harness import running_bot, wait_for
from tests.support.telegram_standin import TelegramStandIn, message_update, user

SECRET_PART = "AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"
TOKEN = f"987654321:{SECRET_PART}"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


async def test_the_telegram_bot_process_never_logs_its_token(
    core: Runtime, servers: Servers, tmp_path: Path
) -> None:
    standin = TelegramStandIn(TOKEN)
    await standin.start()
    env = {
        **os.environ,
        "TEDDY_HOME": str(tmp_path),
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": standin.url,
        "LOG_LEVEL": "DEBUG",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "teddy",
        "telegram",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        standin.push_update(message_update(user(4242, "Dana"), "/start"))
        await wait_for(lambda: bool(standin.sent("sendMessage")), timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
        await standin.stop()
    output = (stdout + stderr).decode()
    assert "DEBUG" in output  # the logs were on, and were read
    assert SECRET_PART not in output


async def test_library_request_logs_have_the_bot_token_redacted(
    core: Runtime, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("DEBUG")
    for name in QUIET_LOGGERS:  # as an operator debugging the Bot API might turn them on
        logging.getLogger(name).setLevel(logging.DEBUG)
    async with running_bot(core, polling=True, token=TOKEN) as bot:
        bot.standin.push_update(message_update(user(4242, "Dana"), "/start"))
        await wait_for(lambda: bool(bot.standin.sent("sendMessage")))
    logging.getLogger("telegram.test").error("failed at %s", f"{bot.standin.url}/bot{TOKEN}/x")
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "HTTP Request: POST" in output  # httpx logged every Bot API call
    assert "bot987654321:<redacted>/" in output
    assert SECRET_PART not in output


def test_the_api_access_log_redacts_feed_urls_and_oauth_parameters(
    servers: Servers, tmp_path: Path
) -> None:
    port = free_port()
    env = {**environment(tmp_path, servers, port), "LOG_LEVEL": "INFO"}
    process = subprocess.Popen(
        [sys.executable, "-m", "teddy", "api", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _healthy(base):
            assert process.poll() is None and time.monotonic() < deadline, "api did not start"
            time.sleep(0.2)
        httpx.get(f"{base}/calendar/FeedTokenSecret_abc123.ics")
        httpx.get(f"{base}/auth/google/callback?code=OauthCodeSecret&state=OauthStateSecret")
        httpx.get(f"{base}/healthz?token=tt_ApiTokenSecretApiTokenSecret")
    finally:
        process.terminate()
        stdout, stderr = process.communicate(timeout=30)
    output = (stdout + stderr).decode()
    assert "/calendar/<redacted>.ics" in output  # the access log was on, and was read
    for secret in ("FeedTokenSecret", "OauthCodeSecret", "OauthStateSecret", "ApiTokenSecret"):
        assert secret not in output


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


async def test_the_slack_http_process_never_logs_tokens_or_oauth_parameters(
    core: Runtime, servers: Servers, tmp_path: Path
) -> None:
    standin = SlackStandIn()
    await standin.start()
    bot_token = "xoxb-1111-2222-SlackBotTokenSecret"
    code = standin.add_workspace("TQ", bot_token)
    port = free_port()
    env = {
        **os.environ,
        "TEDDY_HOME": str(tmp_path),
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "SLACK_CLIENT_ID": standin.client_id,
        "SLACK_CLIENT_SECRET": standin.client_secret,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": standin.api_url,
        "LOG_LEVEL": "DEBUG",
    }
    env.pop("SLACK_BOT_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "teddy", "slack", "--http", "--port", str(port),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until_up(base, process)
        async with httpx.AsyncClient(base_url=base) as browser:
            install = await browser.get("/slack/install")
            state = parse_qs(urlparse(install.headers["location"]).query)["state"][0]
            await browser.get(
                "/slack/oauth_redirect",
                params={"code": code, "state": state},
                headers={"Cookie": f"slack-app-oauth-state={state}"},
            )
            body = urlencode(slash("settings tz Europe/Paris", team="TQ"))
            headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body)}
            await browser.post("/slack/events", content=body, headers=headers)
        await standin.wait_for("chat.postMessage", timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
        await standin.stop()
    output = (stdout + stderr).decode()
    assert "DEBUG" in output
    secrets = ("SlackBotTokenSecret", code, state, standin.client_secret)
    leaks = [line for line in output.splitlines() if any(s in line for s in secrets)]
    assert leaks == []


@pytest.fixture
async def discord_server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordStandIn]:
    server = DiscordStandIn()
    await server.start()
    monkeypatch.setattr(discord.http.Route, "BASE", f"{server.url}/api/v10")
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(server.gateway_url)
    )
    yield server
    await server.stop()


DISCORD_TOKEN = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs"
INTERACTION_TOKEN = "aW50ZXJhY3Rpb246InteractionTokenSecret0123456789"


async def test_the_discord_bot_never_logs_its_token_or_interaction_tokens(
    core: Runtime,
    discord_server: DiscordStandIn,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    configure_logging("DEBUG")
    client = TeddyDiscord(core)
    task = asyncio.create_task(client.start(DISCORD_TOKEN))
    try:
        await asyncio.wait_for(client.wait_until_ready(), 15)
        command = discord_slash("start", dm=True)
        command["token"] = INTERACTION_TOKEN
        await discord_server.dispatch("INTERACTION_CREATE", command)
        await discord_server.wait_for("POST", "/callback")
    finally:
        await client.close()
        await asyncio.wait_for(task, 10)
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "DEBUG" in output
    leaks = [
        line
        for line in output.splitlines()
        if "ZnCjm1XVW7vRze4b7Cq4se7kKWs" in line or "InteractionTokenSecret" in line
    ]
    assert leaks == []
