"""`teddy api`: the web companion (dashboard, sign-in, REST API) under uvicorn."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from teddy.options import home_option, load_settings


@click.command("api")
@home_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
def api_command(home: Path | None, host: str, port: int) -> None:
    """Serve the web dashboard and the REST API."""

    from api.app import create_app
    from teddy.http_server import http_server
    from teddy.runtime import open_core

    settings = load_settings(home)

    async def run() -> None:
        async with open_core(settings, preload_embedder=True, relay_jobs=True) as core:
            app = create_app(settings, core)
            server = http_server(
                app, host, port, proxy_headers=True, log_level=settings.log_level.lower()
            )
            await server.serve()

    asyncio.run(run())
