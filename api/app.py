"""The web companion: `create_app(settings, core)` builds the FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from redis.asyncio import Redis
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from api import (
    account_pages,
    api_docs,
    ask_pages,
    card_pages,
    document_pages,
    google,
    insight_pages,
    manage,
    ops,
    pages,
    plan_pages,
    rest,
    rest_study,
    rest_tasks,
    review_pages,
    room_pages,
    task_pages,
    tutor_pages,
)
from api.security import Metrics, SecurityAndMetrics
from api.web import HERE, SignInRequired, WebState, templates
from core.dispatch.gateway import Gateway
from core.errors import BadInput, Forbidden, NotFound, TeddyError
from core.settings import Settings

STATUS_FOR = {BadInput: 400, NotFound: 404, Forbidden: 403}
# The REST API answers bad input with 422 like FastAPI's own validation, and another
# user's things with 404 exactly like missing ones (a 403 would confirm they exist).
API_STATUS_FOR = {BadInput: 422, NotFound: 404, Forbidden: 404}


def create_app(
    settings: Settings, core: Gateway, *, extra_routers: Sequence[APIRouter] = ()
) -> FastAPI:
    """The app for an opened core. `extra_routers` (the Telegram webhook, for example) are
    included as they are."""
    redis = Redis.from_url(core.redis_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await redis.aclose()

    app = FastAPI(
        title="Study Teddy",
        version="1",
        description="Your own Study Teddy data. Authenticate with an API token (settings page).",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.web = WebState(core, settings, redis)
    app.state.metrics = Metrics()
    app.state.oauth = google.make_oauth(settings)
    https = settings.public_base_url.startswith("https://")
    # Holds only the OAuth state, nonce and PKCE verifier between redirect and callback.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie="teddy_oauth",
        max_age=600,
        same_site="lax",
        https_only=https,
    )
    app.add_middleware(SecurityAndMetrics, metrics=app.state.metrics)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for router in (
        ops.router,
        api_docs.router,
        pages.router,
        account_pages.router,
        manage.router,
        review_pages.router,
        card_pages.router,
        task_pages.router,
        document_pages.router,
        ask_pages.router,
        tutor_pages.router,
        room_pages.router,
        insight_pages.router,
        plan_pages.router,
        google.router,
        rest.router,
        rest_tasks.router,
        rest_study.router,
        *extra_routers,
    ):
        app.include_router(router)
    _add_error_handlers(app)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def to_login(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(TeddyError)
    async def domain_error(request: Request, exc: TeddyError) -> Response:
        table = API_STATUS_FOR if request.url.path.startswith("/api/") else STATUS_FOR
        status = next((s for cls, s in table.items() if isinstance(exc, cls)), 400)
        return _error(request, status, exc.plain)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # FastAPI's default echoes the input back, which cannot be encoded when it holds a
        # lone surrogate (a 500); `msg` already says what was expected.
        errors = [{k: v for k, v in e.items() if k not in ("input", "ctx")} for e in exc.errors()]
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        response = _error(request, exc.status_code, str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response


def _error(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=status)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"message": message, "who": None, "google": False},
        status_code=status,
    )
