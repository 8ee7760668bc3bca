"""/healthz (database and Redis), /readyz (healthy and the embedding model loaded) and
/metrics (Prometheus)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from api.web import state

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz(request: Request) -> Response:
    """Liveness: the database and Redis answer."""
    checks = await _dependencies(request)
    return _verdict(checks)


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    """Readiness: healthy, and the local embedding model loaded when this process
    preloads it, so no traffic reaches a replica while loading takes its CPU."""
    checks = await _dependencies(request)
    warm_up = state(request).core.warm_up
    if warm_up is not None:
        checks["embedding_model"] = "ok" if warm_up.done() else "loading"
    return _verdict(checks)


async def _dependencies(request: Request) -> dict[str, str]:
    web = state(request)
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(3):
            async with web.core.db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as err:
        checks["database"] = f"down: {type(err).__name__}"
    try:
        async with asyncio.timeout(3):
            await web.redis.ping()
        checks["redis"] = "ok"
    except Exception as err:
        checks["redis"] = f"down: {type(err).__name__}"
    return checks


def _verdict(checks: dict[str, str]) -> Response:
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "degraded", **checks}, 200 if healthy else 503
    )


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
