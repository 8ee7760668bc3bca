"""Slack's HTTP events endpoint: slash commands, events and interactivity at /slack/events.

Bolt verifies the request signature (signing secret, timestamp within 5 minutes) on every
request and answers at `ack()`, within Slack's 3 seconds; the work continues after it."""

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

    return router
