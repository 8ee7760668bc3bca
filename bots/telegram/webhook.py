"""Telegram's webhook: a FastAPI router that checks Telegram's secret token on every
request and hands the update to the bot's `Application` (its `update_queue`).

Mount it with `app.include_router(telegram_webhook_router(application))`; the application
must be started (`initialize()` and `start()`) by whoever runs the API."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from telegram.ext import Application

from bots.telegram.translate import read_update
from core.settings import Settings, get_settings

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def telegram_webhook_router(
    application: Application[Any, Any, Any, Any, Any, Any],
    settings: Settings | None = None,
    *,
    path: str = WEBHOOK_PATH,
) -> APIRouter:
    configured = (settings or get_settings()).telegram_webhook_secret
    expected = configured.get_secret_value() if configured is not None else None
    router = APIRouter()

    @router.post(path, include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        refusal = _refusal(request, expected)
        if refusal is not None:
            return refusal
        try:
            data = await request.json()
        except ValueError:
            return Response(status_code=400)
        if not isinstance(data, dict) or "update_id" not in data:
            return Response(status_code=400)
        update = read_update(data, application.bot)
        if update is not None:
            await application.update_queue.put(update)
        return Response(status_code=200)

    return router


def _refusal(request: Request, expected: str | None) -> Response | None:
    given = request.headers.get(SECRET_HEADER)
    client = request.client.host if request.client else "?"
    if expected is None:
        log.error("telegram webhook call from %s refused: no TELEGRAM_WEBHOOK_SECRET", client)
        return Response(status_code=403)
    if given is None:
        log.warning("telegram webhook call from %s refused: no secret token", client)
        return Response(status_code=401)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("telegram webhook call from %s refused: wrong secret token", client)
        return Response(status_code=403)
    return None
