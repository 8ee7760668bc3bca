"""The REST API's documentation: Swagger UI from local files, and a schema for every
route's answer."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from api.app import create_app
from core.settings import Settings
from teddy.runtime import Runtime
from tests.integration.test_web import browser


@pytest.fixture
async def app(core: Runtime, settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, core)
    yield application
    await application.state.web.redis.aclose()


async def test_swagger_ui_is_served_from_this_site_only(app: FastAPI) -> None:
    async with browser(app) as client:
        page = await client.get("/api/docs")
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert "/static/swagger/swagger-ui-bundle.js" in sources
        assert all(s.startswith("/") for s in sources), sources
        assert "/api/v1/openapi.json" in page.text
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"):
            assert (await client.get(f"/static/swagger/{asset}")).status_code == 200
        assert (await client.get("/static/api-docs.js")).status_code == 200


async def test_docs_and_openapi_json_lead_to_the_api_paths(app: FastAPI) -> None:
    async with browser(app) as client:
        docs = await client.get("/docs")
        assert docs.status_code == 308 and docs.headers["location"] == "/api/docs"
        spec = await client.get("/openapi.json")
        assert spec.headers["location"] == "/api/v1/openapi.json"
        followed = await client.get("/openapi.json", follow_redirects=True)
        assert followed.json()["paths"]["/api/v1/me"]


def test_every_rest_route_declares_its_response_model(app: FastAPI) -> None:
    # Included routers are expanded lazily; iter_route_contexts yields each with its prefix.
    routes = [
        r
        for r in iter_route_contexts(app.routes)
        if isinstance(r.route, APIRoute) and r.include_in_schema
    ]
    assert len(routes) > 10
    missing = [
        f"{sorted(r.methods or ())} {r.path}"
        for r in routes
        if r.response_model is None and r.status_code != 204
    ]
    assert missing == []


async def test_the_spec_describes_the_stats_answer(app: FastAPI) -> None:
    async with browser(app) as client:
        spec = (await client.get("/api/v1/openapi.json")).json()
    answer = spec["paths"]["/api/v1/stats"]["get"]["responses"]["200"]
    ref = answer["content"]["application/json"]["schema"]["$ref"]
    stats = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"days", "streak", "tasks", "due_forecast"} <= set(stats["properties"])
