"""The JobQueue port on Celery: jobs go to the workers, with the caller's correlation id."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from celery import Celery
from kombu.connection import Connection

from core.jobs import JOBS
from core.logs import correlation_id
from workers.config import CORRELATION_HEADER, QUEUE, TASK_NAME


class CeleryJobQueue:
    """Sends each job as a `teddy.run_job` message. One broker connection per queue object
    (reconnected when it drops), closed by `close()`: an open client keeps the embedded
    Redis of the process that started it from stopping."""

    def __init__(self, app: Celery) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._connection: Connection | None = None

    async def enqueue(self, name: str, kwargs: dict[str, Any]) -> None:
        if name not in JOBS:
            raise LookupError(f"unknown job {name!r}")
        json.dumps(kwargs)  # fail here, in the caller, on arguments a worker could not read
        headers = {CORRELATION_HEADER: correlation_id.get()}
        await asyncio.to_thread(self.send, name, kwargs, headers)

    def send(self, name: str, kwargs: dict[str, Any], headers: dict[str, Any]) -> str:
        with self._lock:
            if self._connection is None:
                self._connection = self.app.connection_for_write()
                self.app.amqp.queues[QUEUE](self._connection.default_channel).declare()
            # ignore_result: otherwise the sender would subscribe to each task's result.
            result = self.app.send_task(
                TASK_NAME,
                args=(name, kwargs),
                queue=QUEUE,
                headers=headers,
                ignore_result=True,
                connection=self._connection,
                retry=True,
            )
        return str(result.id)

    def close(self) -> None:
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            close_connection(connection)


def close_connection(connection: Connection) -> None:
    """Release a broker connection and its Redis sockets (kombu's release alone keeps the
    channel's socket pool open)."""
    transport_connection = connection.connection if connection.connected else None
    for channel in list(getattr(transport_connection, "channels", None) or []):
        channel.close()
    connection.release()  # type: ignore[no-untyped-call]
