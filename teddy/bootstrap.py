"""The one place that wires Study Teddy: every process kind (console, bots, API, worker,
beat) gets its `Services` from `build_services`, so a capability behaves the same whether
its job runs inline or in a Celery worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from redis.asyncio import Redis

from api.mail import mailer_from_settings
from core.chat.context import Services
from core.clock import Clock, SystemClock
from core.jobs import JobQueue
from core.rooms.pubsub import RedisRoomEvents
from core.settings import Settings
from core.tutor.digest import install as install_tutor

if TYPE_CHECKING:
    from workers.app import TeddyApp


def build_services(
    settings: Settings, *, redis_url: str, jobs: JobQueue, clock: Clock | None = None
) -> Services:
    """Typed services for this process: Redis, room events over Redis pub/sub, the LLM
    summariser when a model is configured. `await services.aclose()` closes the clients."""
    redis = Redis.from_url(redis_url)
    room_events = RedisRoomEvents(redis_url)
    services = Services(
        settings=settings,
        clock=clock or SystemClock(),
        jobs=jobs,
        redis=redis,
        room_events=room_events,
        mailer=mailer_from_settings(settings),
    )
    services.closers.append(redis.aclose)
    services.closers.append(room_events.close)
    install_tutor(services)
    return services


def celery_app(settings: Settings, *, database_url: str, redis_url: str) -> TeddyApp:
    """The Celery app whose worker processes build their services here, like every other
    process (never a reduced set of their own)."""
    from workers.app import create_app

    app = create_app(settings, database_url=database_url, redis_url=redis_url)
    app.services_factory = _worker_services
    return app


def _worker_services(app: TeddyApp, jobs: JobQueue) -> Services:
    return build_services(app.settings, redis_url=app.redis_url, jobs=jobs)
