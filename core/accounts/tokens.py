"""API tokens for the user's own scripts: scopes, expiry, and revocation that reaches
everything a token made."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import ApiToken, LinkCode
from core.accounts.service import digest, password_matches
from core.db import rows_affected
from core.errors import BadInput, Forbidden, NotFound
from core.identity.models import User

TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)
READ, WRITE = "read", "write"
MINT_TOKENS, MINT_LINK_CODES = "tokens:create", "link-codes:create"
BASIC_SCOPES = frozenset({READ, WRITE})
# Only asked for on the web page, with the password: a leaked token with these could make
# more tokens, or join the account with someone else's.
POWERFUL_SCOPES = frozenset({MINT_TOKENS, MINT_LINK_CODES})
SCOPE_ORDER = (READ, WRITE, MINT_TOKENS, MINT_LINK_CODES)
TOKEN_DAYS = (7, 30, 90, 365)
DEFAULT_TOKEN_DAYS = 90
MAX_TOKENS = 20


@dataclass(frozen=True)
class TokenHolder:
    """Who a valid API token speaks for, and what it may do."""

    user_id: int
    token_id: int
    scopes: frozenset[str]
    expires_at: datetime

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


def parse_scopes(scopes: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(s.strip() for s in scopes if s.strip())
    unknown = sorted(wanted - BASIC_SCOPES - POWERFUL_SCOPES)
    if unknown:
        raise BadInput(f"Unknown scope {unknown[0]!r}; use {', '.join(SCOPE_ORDER)}.")
    if not wanted:
        raise BadInput("Give the token at least one scope (read or write).")
    return wanted


def scope_text(scopes: Iterable[str]) -> str:
    chosen = set(scopes)
    return " ".join(s for s in SCOPE_ORDER if s in chosen)


def _token_lifetime(days: int) -> timedelta:
    if days not in TOKEN_DAYS:
        raise BadInput(f"A token lives {', '.join(map(str, TOKEN_DAYS))} days; pick one.")
    return timedelta(days=days)


async def _insert_token(
    session: AsyncSession,
    user_id: int,
    name: str,
    now: datetime,
    scopes: frozenset[str],
    expires_at: datetime,
    parent_id: int | None = None,
) -> tuple[ApiToken, str]:
    """A new token; the secret is returned once and only its hash is kept."""
    count = await session.scalar(select(func.count()).where(ApiToken.user_id == user_id))
    if (count or 0) >= MAX_TOKENS:
        raise BadInput(f"You have {MAX_TOKENS} API tokens already; delete one first.")
    secret = "tt_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user_id,
        name=name.strip()[:100] or "script",
        token_hash=digest(secret),
        created_at=now,
        scopes=scope_text(scopes),
        expires_at=expires_at,
        parent_id=parent_id,
    )
    session.add(token)
    await session.flush()
    return token, secret


async def create_api_token(
    session: AsyncSession,
    user: User,
    name: str,
    now: datetime,
    *,
    scopes: Iterable[str] = BASIC_SCOPES,
    days: int = DEFAULT_TOKEN_DAYS,
    password: str = "",
) -> tuple[ApiToken, str]:
    """A token made by the signed-in user. The powerful scopes need the account's password."""
    wanted = parse_scopes(scopes)
    if wanted & POWERFUL_SCOPES and not password_matches(user, password):
        raise BadInput(
            "To let a token make tokens or link codes, enter your current password "
            "(accounts without one: set a password first)."
        )
    return await _insert_token(session, user.id, name, now, wanted, now + _token_lifetime(days))


async def mint_api_token(
    session: AsyncSession,
    holder: TokenHolder,
    name: str,
    now: datetime,
    *,
    scopes: Iterable[str] = BASIC_SCOPES,
    days: int = DEFAULT_TOKEN_DAYS,
) -> tuple[ApiToken, str]:
    """A token made by a token with `tokens:create`: read and/or write only, no more than
    the maker has, gone when the maker expires or is revoked."""
    if not holder.allows(MINT_TOKENS):
        raise Forbidden("This token may not make tokens (it lacks the tokens:create scope).")
    wanted = parse_scopes(scopes)
    if wanted & POWERFUL_SCOPES:
        raise BadInput("Tokens that make tokens or link codes are made on the settings page.")
    if not wanted <= holder.scopes:
        raise BadInput("A token can only give scopes it has itself.")
    expires_at = min(now + _token_lifetime(days), holder.expires_at)
    return await _insert_token(
        session, holder.user_id, name, now, wanted, expires_at, parent_id=holder.token_id
    )


async def holder_for_api_token(
    session: AsyncSession, secret: str, now: datetime
) -> TokenHolder | None:
    """The holder of an unexpired token, or None."""
    token = await session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if token is None or token.expires_at <= now:
        return None
    # Written at most every few minutes, so a busy script does not turn every read into a write.
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now
    return TokenHolder(token.user_id, token.id, frozenset(token.scopes.split()), token.expires_at)


async def list_api_tokens(session: AsyncSession, user_id: int) -> list[ApiToken]:
    rows = await session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
    )
    return list(rows)


async def delete_api_token(session: AsyncSession, user_id: int, token_id: int) -> None:
    """Revoke a token, the tokens it made and the link codes it made."""
    result = await session.execute(
        delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )
    if not rows_affected(result):
        raise NotFound("No such API token.")
    children = list(
        await session.scalars(
            delete(ApiToken)
            .where(ApiToken.parent_id == token_id, ApiToken.user_id == user_id)
            .returning(ApiToken.id)
        )
    )
    await session.execute(
        delete(LinkCode).where(
            LinkCode.user_id == user_id, LinkCode.token_id.in_([token_id, *children])
        )
    )
