"""What is queued: message counts per queue, read through the broker (Redis or RabbitMQ)."""

from __future__ import annotations

from dataclasses import dataclass

from celery import Celery

from workers.config import QUEUE
from workers.queue import close_connection


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    waiting: int
    # Redis broker only: taken by a worker and not yet acknowledged (running or prefetched).
    unacked: int | None


def queue_depths(app: Celery, queues: tuple[str, ...] = (QUEUE,)) -> list[QueueDepth]:
    depths: list[QueueDepth] = []
    conn = app.connection_for_read()
    try:
        conn.ensure_connection(max_retries=1)
        channel = conn.default_channel
        for name in queues:
            try:
                waiting = int(channel.queue_declare(queue=name, passive=True).message_count)
            except conn.channel_errors:
                waiting = 0  # not declared yet: nothing was ever queued
                channel = conn.channel()
            depths.append(QueueDepth(name, waiting, _unacked(channel)))
    finally:
        close_connection(conn)
    return depths


def _unacked(channel: object) -> int | None:
    client = getattr(channel, "client", None)
    key = getattr(channel, "unacked_key", None)
    if client is None or key is None:
        return None
    return int(client.hlen(key))


def requeue_unacked(app: Celery) -> int:
    """Hand every taken-but-unacknowledged job back to its queue at once (Redis broker).

    Only safe when no worker is alive on this broker (`teddy up` after its only worker
    died): otherwise jobs still running elsewhere would run twice. Other brokers (RabbitMQ)
    requeue by themselves when the connection drops; this returns 0 for them."""
    conn = app.connection_for_write()
    try:
        channel = conn.default_channel
        client = getattr(channel, "client", None)
        if client is None or not hasattr(channel, "unacked_key"):
            return 0
        before = int(client.hlen(channel.unacked_key))
        channel.visibility_timeout = 0  # every unacked message counts as expired
        channel.qos.restore_visible(start=0, num=None, interval=1)
        return before - int(client.hlen(channel.unacked_key))
    finally:
        close_connection(conn)
