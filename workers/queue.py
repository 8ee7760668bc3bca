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

SEND_RETRY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1}


class CeleryJobQueue:
    """Sends each job as a `teddy.run_job` message. One broker connection per queue object
    (reconnected when it drops), closed by `close()`: an open client keeps the embedded
    Redis of the process that started it from stopping."""

    def __init__(self, app: Celery) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._connection: Connection | None = None

    async def enqueue(
        self, name: str, kwargs: dict[str, Any], *, job_id: int | None = None
    ) -> None:
        if name not in JOBS:
            raise LookupError(f"unknown job {name!r}")
        json.dumps(kwargs)  # fail here, in the caller, on arguments a worker could not read
        headers = {CORRELATION_HEADER: correlation_id.get()}
        await asyncio.to_thread(self.send, name, kwargs, headers, job_id)

    async def reachable(self) -> bool:
        return await asyncio.to_thread(self._reachable)

    def _reachable(self) -> bool:
        try:
            with self.app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        except Exception:
            return False
        return True

    def send(
        self,
        name: str,
        kwargs: dict[str, Any],
        headers: dict[str, Any],
        job_id: int | None = None,
    ) -> str:
        args = (name, kwargs) if job_id is None else (name, kwargs, job_id)
        try:
            return self._send(args, headers)
        except Exception:
            self.close()  # a broken connection is made afresh by the next send
            raise

    def _send(self, args: tuple[Any, ...], headers: dict[str, Any]) -> str:
        with self._lock:
            if self._connection is None:
                self._connection = self.app.connection_for_write()
                self.app.amqp.queues[QUEUE](self._connection.default_channel).declare()
            # ignore_result: otherwise the sender would subscribe to each task's result.
            result = self.app.send_task(
                TASK_NAME,
                args=args,
                queue=QUEUE,
                headers=headers,
                ignore_result=True,
                connection=self._connection,
                retry=True,
                # A broker that is down fails the send within seconds; the caller keeps the
                # job (core.maintenance.pending) and the relay sends it later.
                retry_policy=SEND_RETRY,
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
