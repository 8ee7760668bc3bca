"""Server-sent events for answers that grow as the model writes: `delta` events with text,
then one `done` event with the rest of the result (or one `error` event with a message)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi.responses import StreamingResponse

from core.errors import TeddyError, WarmUpFirst

log = logging.getLogger(__name__)

OnText = Callable[[str], Awaitable[None]]
# Runs the whole use case (its own transaction) and returns the `done` event's data.
Work = Callable[[OnText], Awaitable[dict[str, Any]]]
FAILED = "Something went wrong on our side; please try again."


def event(kind: str, data: object) -> str:
    """One event in the text/event-stream format (JSON keeps the data on one line)."""
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def run_warm(work: Work, on_text: OnText) -> dict[str, Any]:
    """`work`, loading the embedding model first when the search asks for it (never while
    a transaction holds a connection) and running it again."""
    try:
        return await work(on_text)
    except WarmUpFirst as cold:
        await cold.warm_up()
        return await work(on_text)


async def events(work: Work) -> AsyncIterator[str]:
    """The event stream of one run of `work`. The work runs in a task of its own, so a
    browser that goes away cancels it rather than leaving it half-written."""
    queue: asyncio.Queue[tuple[str, object]] = asyncio.Queue()

    async def on_text(delta: str) -> None:
        await queue.put(("delta", delta))

    async def run() -> None:
        try:
            await queue.put(("done", await run_warm(work, on_text)))
        except TeddyError as err:
            await queue.put(("error", {"message": err.message}))
        except Exception:
            log.exception("a streamed answer failed")
            await queue.put(("error", {"message": FAILED}))

    task = asyncio.create_task(run())
    try:
        while True:
            kind, data = await queue.get()
            yield event(kind, data)
            if kind != "delta":
                break
    finally:
        if not task.done():
            task.cancel()


def stream(work: Work) -> StreamingResponse:
    return StreamingResponse(
        events(work),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def wants_stream(accept: str) -> bool:
    return "text/event-stream" in accept
