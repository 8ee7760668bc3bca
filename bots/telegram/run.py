"""Run the Telegram bot in this process: long polling (development, `teddy up`) or the
webhook served on its own port (production), plus outbox delivery and live room events."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bots.http import RunningServer, ServeHttp, start_server
from bots.live import follow_room_events
from bots.telegram.adapter import TelegramAdapter, build_application
from bots.telegram.translate import PLATFORM
from core.dispatch.gateway import Gateway

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]


async def run_telegram(
    core: Gateway,
    stop: asyncio.Event,
    *,
    webhook: bool = False,
    serve_http: ServeHttp | None = None,
    host: str = "127.0.0.1",
    port: int = 8081,
    poll_timeout: float = 10.0,
) -> None:
    """Serve Telegram until `stop` is set. With `webhook`, Telegram is told to post updates
    to `PUBLIC_BASE_URL/telegram/webhook` and `serve_http` takes them on host:port."""
    if webhook and serve_http is None:
        raise ValueError("the webhook needs an HTTP server (serve_http)")
    application = build_application(core.settings, polling=not webhook)
    adapter = TelegramAdapter(core, application)
    async with application:
        await adapter.register_commands()
        await application.start()
        server = None
        if webhook:
            assert serve_http is not None
            server = await _serve_webhook(adapter, serve_http, host, port)
        else:
            await application.bot.delete_webhook()
            assert application.updater is not None
            await application.updater.start_polling(
                timeout=int(poll_timeout), allowed_updates=ALLOWED_UPDATES
            )
        log.info(
            "telegram bot @%s running (%s)",
            application.bot.username,
            "webhook" if webhook else "polling",
        )
        background = [
            asyncio.create_task(adapter.deliverer().run(stop)),
            asyncio.create_task(
                follow_room_events(
                    core.services.room_events, PLATFORM, adapter.show_room_event, stop
                )
            ),
        ]
        try:
            await stop.wait()
        finally:
            for task in background:
                if not stop.is_set():  # cancelled or failed: the task would wait for `stop`
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if server is not None:
                await server.close()
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()


async def _serve_webhook(
    adapter: TelegramAdapter, serve_http: ServeHttp, host: str, port: int
) -> RunningServer:
    from fastapi import FastAPI

    from bots.telegram.webhook import WEBHOOK_PATH, telegram_webhook_router

    settings = adapter.core.settings
    secret = settings.telegram_webhook_secret
    if secret is None:
        raise ValueError("TELEGRAM_WEBHOOK_SECRET must be set to use the webhook")
    app = FastAPI()
    app.include_router(telegram_webhook_router(adapter.application, settings))
    running = start_server(serve_http, app, host, port)
    url = settings.public_base_url.rstrip("/") + WEBHOOK_PATH
    await adapter.bot.set_webhook(
        url, secret_token=secret.get_secret_value(), allowed_updates=ALLOWED_UPDATES
    )
    return running
