"""REST API under /api/v1 for the user's own scripts: bearer tokens, every route scoped to
the caller (another user's ids answer 404, exactly like ids that do not exist)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, Field

from api.web import RowId, state, within_rate
from core.accounts import service as accounts
from core.accounts import userdata
from core.analytics import service as analytics
from core.identity.models import User


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL: refuse it as bad input, not a database error.
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    return value


PlainText = Annotated[str, AfterValidator(_no_nul)]

bearer = HTTPBearer(auto_error=False, description="An API token made on the settings page.")
router = APIRouter(prefix="/api/v1", tags=["v1"])


class Caller(BaseModel):
    user_id: int


async def caller(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            401, "Send Authorization: Bearer <token>.", {"WWW-Authenticate": "Bearer"}
        )
    web = state(request)
    async with web.transaction() as session:
        user = await accounts.user_for_api_token(session, credentials.credentials, web.now())
        if user is None:
            raise HTTPException(401, "Unknown or deleted token.", {"WWW-Authenticate": "Bearer"})
        user_id = user.id
    if not await within_rate(web, f"api:{user_id}", web.settings.api_rate_per_minute):
        raise HTTPException(429, "Too many requests; slow down.")
    return Caller(user_id=user_id)


class Me(BaseModel):
    id: int
    display_name: str
    timezone: str
    email: str | None


class IdentityOut(BaseModel):
    id: int
    platform: str
    display_name: str
    last_seen_at: datetime


class TokenOut(BaseModel):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


class NewToken(BaseModel):
    name: PlainText = Field(default="script", max_length=100)


class CreatedToken(TokenOut):
    token: str


class LinkCodeOut(BaseModel):
    code: str
    expires_in_seconds: int


class LinkIn(BaseModel):
    code: PlainText = Field(min_length=4, max_length=20)


class Linked(BaseModel):
    user_id: int


@router.get("/me", response_model=Me)
async def me(request: Request, who: Caller = Depends(caller)) -> Me:
    async with state(request).transaction() as session:
        user = await session.get(User, who.user_id)
        assert user is not None
        return Me(
            id=user.id, display_name=user.display_name, timezone=user.timezone, email=user.email
        )


@router.get("/stats")
async def stats(
    request: Request,
    period: Literal["week", "month", "all"] = "week",
    who: Caller = Depends(caller),
) -> dict[str, Any]:
    web = state(request)
    async with web.transaction() as session:
        user = await session.get(User, who.user_id)
        assert user is not None
        report = await analytics.user_stats(session, user, period, web.now())
    return report.as_dict()


@router.get("/identities", response_model=list[IdentityOut])
async def identities(request: Request, who: Caller = Depends(caller)) -> list[IdentityOut]:
    async with state(request).transaction() as session:
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
    request: Request, identity_id: RowId, who: Caller = Depends(caller)
) -> None:
    async with state(request).transaction() as session:
        await accounts.unlink_identity(session, who.user_id, identity_id)


@router.get("/tokens", response_model=list[TokenOut])
async def tokens(request: Request, who: Caller = Depends(caller)) -> list[TokenOut]:
    async with state(request).transaction() as session:
        rows = await accounts.list_api_tokens(session, who.user_id)
        return [
            TokenOut(id=t.id, name=t.name, created_at=t.created_at, last_used_at=t.last_used_at)
            for t in rows
        ]


@router.post("/tokens", response_model=CreatedToken, status_code=201)
async def create_token(
    request: Request, body: NewToken, who: Caller = Depends(caller)
) -> CreatedToken:
    web = state(request)
    async with web.transaction() as session:
        token, secret = await accounts.create_api_token(session, who.user_id, body.name, web.now())
        return CreatedToken(
            id=token.id,
            name=token.name,
            created_at=token.created_at,
            last_used_at=None,
            token=secret,
        )


@router.delete("/tokens/{token_id}", status_code=204)
async def delete_token(request: Request, token_id: RowId, who: Caller = Depends(caller)) -> None:
    async with state(request).transaction() as session:
        await accounts.delete_api_token(session, who.user_id, token_id)


@router.post("/link-codes", response_model=LinkCodeOut, status_code=201)
async def link_code(request: Request, who: Caller = Depends(caller)) -> LinkCodeOut:
    web = state(request)
    async with web.transaction() as session:
        code = await accounts.create_link_code(session, who.user_id, web.now())
    return LinkCodeOut(code=code, expires_in_seconds=int(accounts.LINK_CODE_TTL.total_seconds()))


@router.post("/link", response_model=Linked)
async def link(request: Request, body: LinkIn, who: Caller = Depends(caller)) -> Linked:
    web = state(request)
    if not await within_rate(web, f"link:{who.user_id}", 10):
        raise HTTPException(429, "Too many attempts; wait a minute.")
    async with web.transaction() as session:
        survivor = await accounts.redeem_link_code(session, body.code, who.user_id, web.now())
    return Linked(user_id=survivor)


@router.get("/export")
async def export(request: Request, who: Caller = Depends(caller)) -> dict[str, Any]:
    async with state(request).transaction() as session:
        return await userdata.export_user(session, who.user_id)
