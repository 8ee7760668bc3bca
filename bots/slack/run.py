"""Run the Slack app in this process: Socket Mode (development, `teddy up`) or HTTP events
on its own port (production behind a proxy; the API app can mount the same endpoint),
plus outbox delivery."""

from __future__ import annotations

import asyncio
import logging

from bots.slack.adapter import SlackAdapter
from teddy.runtime import Core

log = logging.getLogger(__name__)


def build_adapter(core: Core) -> SlackAdapter:
    settings = core.settings
    if settings.slack_bot_token is None or settings.slack_signing_secret is None:
        raise ValueError("SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET must be set")
    return SlackAdapter(
        core,
        bot_token=settings.slack_bot_token.get_secret_value(),
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        api_url=settings.slack_api_url,
    )


async def run_slack(
    core: Core,
    stop: asyncio.Event,
    *,
    http: bool = False,
    host: str = "127.0.0.1",
    port: int = 8082,
) -> None:
    """Serve Slack until `stop` is set."""
    adapter = build_adapter(core)
    delivery = asyncio.create_task(adapter.deliverer().run(stop))
    try:
        if http:
            await _serve_http(adapter, stop, host, port)
        else:
            await _serve_socket_mode(adapter, stop)
    finally:
        stop.set()
        await delivery


async def _serve_socket_mode(adapter: SlackAdapter, stop: asyncio.Event) -> None:
    token = adapter.core.settings.slack_app_token
    if token is None:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN (an xapp- app-level token)")
    handler = adapter.socket_mode(token.get_secret_value())
    await handler.connect_async()  # type: ignore[no-untyped-call]
    log.info("slack app running (socket mode)")
    try:
        await stop.wait()
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


async def _serve_http(adapter: SlackAdapter, stop: asyncio.Event, host: str, port: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    from api.slack_events import slack_events_router

    app = FastAPI()
    app.include_router(slack_events_router(adapter))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    log.info("slack app running (HTTP events on %s:%s/slack/events)", host, port)
    try:
        await stop.wait()
    finally:
        server.should_exit = True
        await task
