"""Slack's HTTP endpoints: slash commands, events and interactivity at /slack/events; with
OAuth configured, the install link /slack/install and Slack's redirect /slack/oauth_redirect.

Bolt verifies the request signature (signing secret, timestamp within 5 minutes) on every
POST and answers at `ack()`, within Slack's 3 seconds; the work continues after it. The
OAuth pair is bolt's flow: a one-time state (cookie + database) guards the redirect."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler

from bots.slack.adapter import SlackAdapter


def slack_events_router(adapter: SlackAdapter, path: str = "/slack/events") -> APIRouter:
    handler = AsyncSlackRequestHandler(adapter.app)
    router = APIRouter()

    @router.post(path, include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    flow = adapter.app.oauth_flow
    if flow is not None:

        @router.get(flow.install_path, include_in_schema=False)
        async def slack_install(request: Request) -> Response:
            return await handler.handle(request)

        @router.get(flow.redirect_uri_path, include_in_schema=False)
        async def slack_oauth_redirect(request: Request) -> Response:
            return await handler.handle(request)

    return router
