"""Swagger UI for the REST API at /api/docs, served from the vendored swagger-ui-dist
files in api/static/swagger (no CDN); /docs and /openapi.json lead there."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.web import templates

router = APIRouter(include_in_schema=False)
SPEC_URL = "/api/v1/openapi.json"


@router.get("/api/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "api_docs.html", {"spec_url": SPEC_URL})


@router.get("/docs")
async def docs_redirect() -> Response:
    return RedirectResponse("/api/docs", status_code=308)


@router.get("/openapi.json")
async def spec_redirect() -> Response:
    return RedirectResponse(SPEC_URL, status_code=308)
