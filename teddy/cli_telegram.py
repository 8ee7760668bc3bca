"""`teddy telegram`: the Telegram bot alone in this process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from teddy.options import home_option, load_settings
from teddy.signals import stop_on_signals


@click.command("telegram")
@home_option
@click.option(
    "--webhook",
    is_flag=True,
    help="Receive updates by webhook at PUBLIC_BASE_URL/telegram/webhook instead of polling.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Webhook listen address.")
@click.option("--port", default=8081, show_default=True, help="Webhook listen port.")
def telegram(home: Path | None, webhook: bool, host: str, port: int) -> None:
    """Run the Telegram bot: long polling, or --webhook (needs TELEGRAM_WEBHOOK_SECRET)."""
    from bots.telegram.run import run_telegram
    from teddy.http_server import http_server
    from teddy.runtime import open_runtime

    settings = load_settings(home)
    if settings.telegram_bot_token is None:
        raise click.UsageError("set TELEGRAM_BOT_TOKEN (from @BotFather) first")
    if webhook and settings.telegram_webhook_secret is None:
        raise click.UsageError("--webhook needs TELEGRAM_WEBHOOK_SECRET (A-Z, a-z, 0-9, _ and -)")

    async def run() -> None:
        stop = stop_on_signals()
        async with open_runtime(settings, preload_embedder=True, relay_jobs=True) as core:
            await run_telegram(
                core, stop, webhook=webhook, serve_http=http_server, host=host, port=port
            )

    asyncio.run(run())
