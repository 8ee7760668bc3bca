"""What every route needs: the core, the Redis client, templates, who is signed in, CSRF
checks and rate limits."""

from __future__ import annotations

import hmac
import html
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from api.mail import mailer_from_settings
from core.accounts import ratelimit
from core.accounts import service as accounts
from core.accounts.mail import Mailer
from core.chat.markup import Style, render
from core.dispatch.gateway import Gateway
from core.identity.models import User
from core.settings import Settings

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "teddy_session"
PRE_CSRF_COOKIE = "teddy_csrf"
templates = Jinja2Templates(directory=str(HERE / "templates"))
# The chat markup (cards, summaries) as HTML: everything escaped, only these tags added.
HTML_STYLE = Style(
    escape=html.escape,
    bold="<strong>{}</strong>",
    italic="<em>{}</em>",
    code="<code>{}</code>",
    link='<a href="{url}" rel="noopener noreferrer">{text}</a>',
    escape_url=html.escape,
)


def chat_markup(text: str) -> Markup:
    """A Jinja filter: chat markup as safe HTML."""
    return Markup(render(text, HTML_STYLE))


templates.env.filters["chat_markup"] = chat_markup
# Row ids are PostgreSQL bigints: a larger number is simply not found (422), never a 500.
RowId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]


@dataclass
class WebState:
    core: Gateway
    settings: Settings
    redis: Redis
    # The mail port; None when SMTP_URL is unset (pages that would send mail say so).
    mailer: Mailer | None = None

    def __post_init__(self) -> None:
        if self.mailer is None:
            self.mailer = mailer_from_settings(self.settings)

    @property
    def secret(self) -> str:
        return self.settings.resolved_secret_key()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.core.db.transaction() as session:
            yield session

    def now(self) -> Any:
        return self.core.services.clock.now()


@dataclass(frozen=True)
class Viewer:
    """The signed-in browser: who, and the CSRF token its forms must carry."""

    user_id: int
    display_name: str
    csrf_token: str
    session_token: str


def state(request: Request) -> WebState:
    web: WebState = request.app.state.web
    return web


async def request_transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's one unit of work: committed when the route returns (before the
    response is sent, so a failed commit is an error, not a lost write), rolled back when
    it raises."""
    async with state(request).transaction() as session:
        yield session


# A route that takes `Tx` (directly or through `SignedIn`/`CurrentUser`) runs in one
# transaction, shared with the sign-in check.
Tx = Annotated[AsyncSession, Depends(request_transaction, scope="function")]


async def viewer_in(session: AsyncSession, request: Request) -> Viewer | None:
    """Who the session cookie signs in, looked up in `session`."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = await accounts.web_session_user(session, token, state(request).now())
    if found is None:
        return None
    user, row = found
    # The identity map holds rows weakly: kept here, the route's `load_user` finds this
    # user without a second query.
    session.info["signed_in_user"] = user
    return Viewer(user.id, user.display_name, row.csrf_token, token)


async def optional_viewer(request: Request) -> Viewer | None:
    """Who is signed in, checked in a transaction of its own (for routes that open theirs)."""
    if not request.cookies.get(SESSION_COOKIE):
        return None
    async with state(request).transaction() as session:
        return await viewer_in(session, request)


class SignInRequired(Exception):
    """Raised by `viewer` for a page that needs a signed-in user: redirects to /login."""


async def viewer(request: Request) -> Viewer:
    found = await optional_viewer(request)
    if found is None:
        raise SignInRequired()
    return found


async def signed_in(request: Request, session: Tx) -> Viewer:
    """The signed-in browser, checked inside the request's transaction."""
    found = await viewer_in(session, request)
    if found is None:
        raise SignInRequired()
    return found


SignedIn = Annotated[Viewer, Depends(signed_in)]


async def current_user(session: Tx, who: SignedIn) -> User:
    # The sign-in check loaded the user into this session: no second query.
    return await load_user(session, who)


CurrentUser = Annotated[User, Depends(current_user)]


def is_tls(request: Request) -> bool:
    """Served over HTTPS: the request came that way (directly, or through a trusted proxy's
    X-Forwarded-Proto), or the site's public address is https."""
    public = state(request).settings.public_base_url
    return request.url.scheme == "https" or public.startswith("https://")


def set_cookie(request: Request, response: Any, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=is_tls(request),
        path="/",
    )


def anonymous_csrf(request: Request) -> str:
    """Forms shown before sign-in carry a token that must match a cookie (double submit)."""
    return request.cookies.get(PRE_CSRF_COOKIE) or secrets.token_urlsafe(24)


async def check_csrf(request: Request, expected: str | None) -> dict[str, str]:
    """The posted form, after checking its `csrf` field; 403 when it is missing or wrong."""
    form = await request.form()
    sent = form.get("csrf")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(403, "The form expired or did not come from this site. Reload it.")
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def within_rate(web: WebState, key: str, limit: int, window: int = 60) -> bool:
    """Count one hit on `key`; False once more than `limit` hits fell in this window."""
    return await ratelimit.within_rate(web.redis, key, limit, web.now(), window)


def client_address(request: Request) -> str:
    """The client's address: the TCP peer, or what a trusted proxy (FORWARDED_ALLOW_IPS)
    says in X-Forwarded-For, as uvicorn's proxy-headers middleware put it in the scope."""
    return request.client.host if request.client else "unknown"


async def load_user(session: AsyncSession, who: Viewer) -> User:
    user = await session.get(User, who.user_id)
    if user is None:
        raise SignInRequired()
    return user
