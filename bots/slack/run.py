"""Run the Slack app in this process: Socket Mode (development, `teddy up`) or HTTP events
on its own port (production behind a proxy), plus outbox delivery and live room events.
With OAuth configured, the install pages are served over HTTP too (Socket Mode carries
events, not browsers)."""

from __future__ import annotations

import asyncio
import logging
import re

from bots.http import ServeHttp, start_server
from bots.live import follow_room_events
from bots.slack.adapter import PLATFORM, SlackAdapter
from bots.slack.clients import OAuthConfig
from core.dispatch.gateway import Gateway
from core.settings import Settings

log = logging.getLogger(__name__)


def oauth_config(settings: Settings) -> OAuthConfig | None:
    """The OAuth settings when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set."""
    if settings.slack_mode() != "workspaces" or settings.slack_client_secret is None:
        return None
    return OAuthConfig(
        client_id=settings.slack_client_id or "",
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=tuple(s for s in re.split(r"[,\s]+", settings.slack_scopes) if s),
        redirect_uri=settings.slack_redirect_uri,
    )


def build_adapter(core: Gateway) -> SlackAdapter:
    settings = core.settings
    mode = settings.slack_mode()
    if mode is None or settings.slack_signing_secret is None:
        raise ValueError(
            "set SLACK_SIGNING_SECRET and either SLACK_CLIENT_ID + SLACK_CLIENT_SECRET "
            "(installs into many workspaces) or SLACK_BOT_TOKEN (one workspace)"
        )
    secret = settings.slack_signing_secret.get_secret_value()
    oauth = oauth_config(settings)
    token = settings.slack_bot_token
    if oauth is not None and token is not None:
        log.warning("SLACK_BOT_TOKEN is ignored: with OAuth each workspace has its own token")
    return SlackAdapter(
        core,
        signing_secret=secret,
        api_url=settings.slack_api_url,
        oauth=oauth,
        bot_token=token.get_secret_value() if oauth is None and token is not None else None,
    )


async def run_slack(
    core: Gateway,
    stop: asyncio.Event,
    *,
    http: bool = False,
    serve_http: ServeHttp | None = None,
    host: str = "127.0.0.1",
    port: int = 8082,
) -> None:
    """Serve Slack until `stop` is set. HTTP events (and, with OAuth, the install pages)
    are served with `serve_http` on host:port."""
    adapter = build_adapter(core)
    if (http or adapter.multi_workspace) and serve_http is None:
        raise ValueError("HTTP events and OAuth installs need an HTTP server (serve_http)")
    background = [
        asyncio.create_task(adapter.deliverer().run(stop)),
        asyncio.create_task(
            follow_room_events(core.services.room_events, PLATFORM, adapter.show_room_event, stop)
        ),
    ]
    try:
        if http:
            assert serve_http is not None
            await _serve_http(adapter, stop, serve_http, host, port)
        elif adapter.multi_workspace:
            assert serve_http is not None
            await asyncio.gather(
                _serve_socket_mode(adapter, stop),
                _serve_http(adapter, stop, serve_http, host, port),
            )
        else:
            await _serve_socket_mode(adapter, stop)
    finally:
        stop.set()
        for task in background:
            await task


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


async def _serve_http(
    adapter: SlackAdapter, stop: asyncio.Event, serve_http: ServeHttp, host: str, port: int
) -> None:
    from fastapi import FastAPI

    from bots.slack.events import slack_events_router

    app = FastAPI()
    app.include_router(slack_events_router(adapter))
    running = start_server(serve_http, app, host, port)
    where = f"{host}:{port}"
    if adapter.multi_workspace:
        log.info(
            "slack app installs at http://%s/slack/install (OAuth redirect: /slack/oauth_redirect)",
            where,
        )
    log.info("slack app running (HTTP events on %s/slack/events)", where)
    try:
        await stop.wait()
    finally:
        await running.close()
