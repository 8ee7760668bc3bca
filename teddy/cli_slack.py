"""`teddy slack`: the Slack app alone in this process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from teddy.options import home_option, load_settings
from teddy.signals import stop_on_signals


@click.command("slack")
@home_option
@click.option("--http", is_flag=True, help="Serve HTTP events instead of Socket Mode.")
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP listen address.")
@click.option("--port", default=8082, show_default=True, help="HTTP listen port.")
def slack(home: Path | None, http: bool, host: str, port: int) -> None:
    """Run the Slack app: Socket Mode (needs SLACK_APP_TOKEN), or --http events. With OAuth
    configured, /slack/install and /slack/oauth_redirect are served on --host/--port."""
    from bots.slack.run import run_slack
    from teddy.http_server import http_server
    from teddy.runtime import open_runtime

    settings = load_settings(home)
    if settings.slack_mode() is None or settings.slack_signing_secret is None:
        raise click.UsageError(
            "set SLACK_SIGNING_SECRET and either SLACK_BOT_TOKEN (one workspace) or "
            "SLACK_CLIENT_ID + SLACK_CLIENT_SECRET (installs into many) first"
        )
    if not http and settings.slack_app_token is None:
        raise click.UsageError("Socket Mode needs SLACK_APP_TOKEN (or use --http)")

    async def run() -> None:
        stop = stop_on_signals()
        async with open_runtime(settings, preload_embedder=True, relay_jobs=True) as core:
            await run_slack(core, stop, http=http, serve_http=http_server, host=host, port=port)

    asyncio.run(run())
