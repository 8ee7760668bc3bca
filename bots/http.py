"""The HTTP server a bot's webhook endpoints run under. The wiring gives it
(`teddy.http_server`: uvicorn as every HTTP process of ours runs it behind the proxy), so an
adapter needs no server of its own and never imports the wiring."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class HttpServer(Protocol):
    """What the bots use of a `uvicorn.Server`."""

    should_exit: bool

    async def serve(self) -> None: ...


# (ASGI app, host, port) -> a server not yet serving.
ServeHttp = Callable[[Any, str, int], HttpServer]


@dataclass
class RunningServer:
    """An HTTP server serving in a task of this loop until `close()`."""

    server: HttpServer
    task: asyncio.Task[None]

    async def close(self) -> None:
        self.server.should_exit = True
        await self.task


def start_server(serve_http: ServeHttp, app: Any, host: str, port: int) -> RunningServer:
    server = serve_http(app, host, port)
    return RunningServer(server, asyncio.create_task(server.serve()))
