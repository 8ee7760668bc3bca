"""`teddy api`: the web companion (dashboard, sign-in, REST API) under uvicorn."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import click

from core.settings import Settings
from teddy.options import home_option, load_settings


@click.command("api")
@home_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    envvar="TEDDY_API_PORT",
    show_envvar=True,
    help="Port to listen on.",
)
def api_command(home: Path | None, host: str, port: int) -> None:
    """Serve the web dashboard and the REST API."""

    from api.app import create_app
    from teddy.runtime import open_runtime

    settings = load_settings(home)

    async def run() -> None:
        async with open_runtime(settings, preload_embedder=True, relay_jobs=True) as core:
            await api_server(settings, create_app(settings, core), host, port).serve()

    asyncio.run(run())


def api_server(settings: Settings, app: Any, host: str, port: int) -> Any:
    """uvicorn for the API: X-Forwarded-For/-Proto are believed from FORWARDED_ALLOW_IPS
    only (the reverse proxy), so rate limits see each client and cookies see https."""
    from teddy.http_server import http_server

    return http_server(
        app,
        host,
        port,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_level=settings.log_level.lower(),
    )
