"""Every process kind gets its services from the one bootstrap (teddy/bootstrap.py)."""

from __future__ import annotations

import asyncio

from core.chat.context import Services
from core.rooms.pubsub import RedisRoomEvents
from core.settings import Settings
from core.tutor.digest import ModelSummarizer
from teddy.bootstrap import celery_app
from teddy.runtime import open_runtime
from teddy.servers import Servers


def with_model(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "llm_base_url": "http://127.0.0.1:9/v1",
            "llm_model": "stand-in",
            "job_queue": "celery",
        }
    )


def port_kinds(services: Services) -> dict[str, type]:
    return {
        "redis": type(services.redis),
        "room_events": type(services.room_events),
        "summarizer": type(services.summarizer),
        "tutor_llm": type(services.tutor.llm if services.tutor else None),
        "settings": type(services.settings),
        "clock": type(services.clock),
    }


async def test_a_worker_gets_the_same_kinds_of_ports_as_every_other_process(
    settings: Settings, servers: Servers
) -> None:
    configured = with_model(settings)
    async with open_runtime(configured, servers=servers) as core:
        app = celery_app(configured, database_url=servers.database_url, redis_url=servers.redis_url)
        # A worker process runs its own loop: build and close it outside this test's.
        runtime = await asyncio.to_thread(app.runtime)
        try:
            worker, process = runtime.services, core.services
            assert isinstance(worker.summarizer, ModelSummarizer)
            assert isinstance(worker.room_events, RedisRoomEvents)
            assert worker.redis is not None
            assert port_kinds(worker) == port_kinds(process)
            assert type(worker.jobs) is type(process.jobs)
        finally:
            await asyncio.to_thread(app.close_runtime)
