"""REST API under /api/v1 for the user's own scripts: bearer tokens, every route scoped to
the caller (another user's ids answer 404, exactly like ids that do not exist)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.accounts import (
    CreatedToken,
    ExportOut,
    IdentityOut,
    LinkCodeOut,
    Linked,
    LinkIn,
    Me,
    NewToken,
    TokenOut,
)
from api.schemas.stats import StatsOut
from api.web import RowId, Tx, state, within_rate
from core.accounts import service as accounts
from core.accounts import tokens, userdata
from core.accounts.ratelimit import link_attempt_allowed
from core.accounts.tokens import TokenHolder
from core.analytics import service as analytics
from core.identity.models import User

bearer = HTTPBearer(auto_error=False, description="An API token made on the settings page.")
router = APIRouter(prefix="/api/v1", tags=["v1"])


@dataclass(frozen=True)
class Caller:
    """Who the bearer token speaks for, and what it may do."""

    user_id: int
    holder: TokenHolder


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _holder(
    request: Request, session: AsyncSession, credentials: HTTPAuthorizationCredentials | None
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            401, "Send Authorization: Bearer <token>.", {"WWW-Authenticate": "Bearer"}
        )
    web = state(request)
    holder = await tokens.holder_for_api_token(session, credentials.credentials, web.now())
    if holder is None:
        raise HTTPException(
            401, "Unknown, expired or revoked token.", {"WWW-Authenticate": "Bearer"}
        )
    if not await within_rate(web, f"api:{holder.user_id}", web.settings.api_rate_per_minute):
        raise HTTPException(429, "Too many requests; slow down.")
    return Caller(holder.user_id, holder)


def _require(who: Caller, scope: str) -> Caller:
    if not who.holder.allows(scope):
        raise HTTPException(
            403,
            f"This token lacks the {scope!r} scope. Make a token with it on the settings page.",
            {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
        )
    return who


async def caller(
    request: Request,
    session: Tx,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> Caller:
    """The token's holder, looked up in the request's transaction; reading needs the
    `read` scope, anything else `write`."""
    who = await _holder(request, session, credentials)
    return _require(who, tokens.READ if request.method in SAFE_METHODS else tokens.WRITE)


def caller_with(scope: str) -> Callable[..., Awaitable[Caller]]:
    """Like `caller`, for a route that needs one particular scope."""

    async def dependency(
        request: Request,
        session: Tx,
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ) -> Caller:
        return _require(await _holder(request, session, credentials), scope)

    return dependency


token_minter = caller_with(tokens.MINT_TOKENS)
account_linker = caller_with(tokens.MINT_LINK_CODES)
ApiCaller = Annotated[Caller, Depends(caller)]
TokenMinter = Annotated[Caller, Depends(token_minter)]
AccountLinker = Annotated[Caller, Depends(account_linker)]


async def api_user(session: Tx, who: ApiCaller) -> User:
    """The caller's user, in the request's transaction."""
    user = await session.get(User, who.user_id)
    if user is None:  # deleted since the token was checked, in this very transaction
        raise HTTPException(
            401, "Unknown, expired or revoked token.", {"WWW-Authenticate": "Bearer"}
        )
    return user


ApiUser = Annotated[User, Depends(api_user)]


@router.get("/me", response_model=Me)
async def me(user: ApiUser) -> Me:
    return Me(id=user.id, display_name=user.display_name, timezone=user.timezone, email=user.email)


@router.get("/stats", response_model=StatsOut)
async def stats(
    request: Request,
    user: ApiUser,
    session: Tx,
    period: Literal["week", "month", "all"] = "week",
) -> StatsOut:
    web = state(request)
    report = await analytics.user_stats(session, user, period, web.now())
    return StatsOut.model_validate(report.as_dict())


@router.get("/identities", response_model=list[IdentityOut])
async def identities(request: Request, who: ApiCaller, session: Tx) -> list[IdentityOut]:
    rows = await accounts.list_identities(session, who.user_id)
    return [
        IdentityOut(
            id=r.id,
            platform=r.platform,
            display_name=r.display_name,
            last_seen_at=r.last_seen_at,
        )
        for r in rows
    ]


@router.delete("/identities/{identity_id}", status_code=204)
async def unlink_identity(
    request: Request, who: ApiCaller, session: Tx, identity_id: RowId
) -> None:
    await accounts.unlink_identity(session, who.user_id, identity_id)


@router.get("/tokens", response_model=list[TokenOut])
async def list_tokens(request: Request, who: ApiCaller, session: Tx) -> list[TokenOut]:
    return [TokenOut.of(t) for t in await tokens.list_api_tokens(session, who.user_id)]


@router.post("/tokens", response_model=CreatedToken, status_code=201)
async def create_token(
    request: Request, who: TokenMinter, session: Tx, body: NewToken
) -> CreatedToken:
    """Needs the `tokens:create` scope (given only on the settings page, with the password).
    The new token has read and/or write only, and dies with the token that made it."""
    web = state(request)
    token, secret = await tokens.mint_api_token(
        session, who.holder, body.name, web.now(), scopes=body.scopes, days=body.days
    )
    return CreatedToken(**TokenOut.of(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=204)
async def delete_token(request: Request, who: ApiCaller, session: Tx, token_id: RowId) -> None:
    await tokens.delete_api_token(session, who.user_id, token_id)


@router.post("/link-codes", response_model=LinkCodeOut, status_code=201)
async def link_code(request: Request, who: AccountLinker, session: Tx) -> LinkCodeOut:
    """Needs the `link-codes:create` scope; revoking the token voids the code."""
    web = state(request)
    code = await accounts.create_link_code(
        session, who.user_id, web.now(), token_id=who.holder.token_id
    )
    return LinkCodeOut(code=code, expires_in_seconds=int(accounts.LINK_CODE_TTL.total_seconds()))


@router.post("/link", response_model=Linked)
async def link(request: Request, who: AccountLinker, session: Tx, body: LinkIn) -> Linked:
    """Entering a code moves this account's data into the code's maker: it needs the
    `link-codes:create` scope too."""
    web = state(request)
    if not await link_attempt_allowed(web.redis, who.user_id, web.now()):
        raise HTTPException(429, "Too many link attempts; wait a minute.")
    survivor = await accounts.redeem_link_code(session, body.code, who.user_id, web.now())
    return Linked(user_id=survivor)


@router.get("/export", response_model=ExportOut)
async def export(request: Request, who: ApiCaller, session: Tx) -> ExportOut:
    return ExportOut.model_validate(await userdata.export_user(session, who.user_id))
