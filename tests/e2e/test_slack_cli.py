"""`teddy slack --http` as an operator runs it for many workspaces: a separate process,
configured only through the environment, installed into a workspace through its own
/slack/install and answering that workspace with the token the OAuth exchange gave it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import httpx

from teddy.cli_up import free_port
from teddy.runtime import Runtime
from teddy.servers import Servers
from tests.e2e.test_slack import SECRET, signed_headers, slash
from tests.support.slack_standin import SlackStandIn


async def wait_until_up(base: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if process.returncode is not None:
                raise AssertionError("teddy slack exited early")
            try:
                await client.get(f"{base}/slack/install")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise AssertionError("teddy slack did not start listening")


async def test_teddy_slack_installs_through_oauth_and_answers_with_the_workspace_token(
    core: Runtime, servers: Servers, tmp_path: Path
) -> None:
    standin = SlackStandIn()
    await standin.start()
    code = standin.add_workspace("TQ", "xoxb-Q")
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
        "LOG_LEVEL": "DEBUG",  # even then no token reaches the log
    }
    env.pop("SLACK_BOT_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "teddy", "slack", "--http", "--port", str(port),
        env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until_up(base, process)
        async with httpx.AsyncClient(base_url=base) as browser:
            install = await browser.get("/slack/install")
            state = parse_qs(urlparse(install.headers["location"]).query)["state"][0]
            back = await browser.get(
                "/slack/oauth_redirect",
                params={"code": code, "state": state},
                headers={"Cookie": f"slack-app-oauth-state={state}"},
            )
            assert back.status_code == 200, back.text
            body = urlencode(slash("settings tz Europe/Paris", team="TQ"))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                **signed_headers(body),
            }
            assert (await browser.post("/slack/events", content=body, headers=headers)).is_success
        posted = await standin.wait_for("chat.postMessage", timeout=30)
        assert posted[0].token == "xoxb-Q" and "Europe/Paris" in posted[0].params["text"]
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        await standin.stop()
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert "xoxb-Q" not in stderr.decode()
    standin.check_refusals()
