"""Password accounts, browser sessions, API tokens and one-time link codes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import userdata
from core.accounts.models import ApiToken, LinkCode, WebSession
from core.errors import BadInput, NotFound
from core.identity.models import Identity, User

SESSION_TTL = timedelta(days=30)
LINK_CODE_TTL = timedelta(minutes=10)
LINK_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and retyped
MIN_PASSWORD = 10
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)

_hasher = PasswordHasher()


def digest(secret: str) -> str:
    """Tokens are random and long, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    local, at, domain = cleaned.partition("@")
    if not at or not local or "." not in domain or len(cleaned) > 320:
        raise BadInput("That does not look like an email address.")
    return cleaned


# Passwords ---------------------------------------------------------------------------


async def sign_up(session: AsyncSession, email: str, password: str, display_name: str) -> User:
    address = normalise_email(email)
    if len(password) < MIN_PASSWORD:
        raise BadInput(f"Use a password of at least {MIN_PASSWORD} characters.")
    taken = await session.scalar(select(User.id).where(User.email == address))
    if taken is not None:
        raise BadInput("There is already an account with that email. Sign in instead.")
    user = User(
        display_name=display_name.strip()[:200] or address.split("@")[0],
        email=address,
        password_hash=_hasher.hash(password),
    )
    session.add(user)
    await session.flush()
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User | None:
    """The user with this email and password, or None (same answer for both mistakes)."""
    try:
        address = normalise_email(email)
    except BadInput:
        return None
    user = await session.scalar(select(User).where(User.email == address))
    if user is None or user.password_hash is None:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


async def set_password(session: AsyncSession, user: User, email: str, password: str) -> None:
    """Give an account made in chat (or with Google) an email and password."""
    address = normalise_email(email)
    if len(password) < MIN_PASSWORD:
        raise BadInput(f"Use a password of at least {MIN_PASSWORD} characters.")
    other = await session.scalar(select(User.id).where(User.email == address, User.id != user.id))
    if other is not None:
        raise BadInput("Another account uses that email.")
    user.email = address
    user.password_hash = _hasher.hash(password)


# Browser sessions --------------------------------------------------------------------


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf_token: str
    expires_at: datetime


async def start_session(
    session: AsyncSession, user_id: int, now: datetime, user_agent: str = ""
) -> NewSession:
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=digest(token),
        user_id=user_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + SESSION_TTL,
        user_agent=user_agent[:300],
    )
    session.add(row)
    await session.flush()
    return NewSession(token, row.csrf_token, row.expires_at)


async def session_user(
    session: AsyncSession, token: str, now: datetime
) -> tuple[User, WebSession] | None:
    row = await session.get(WebSession, digest(token))
    if row is None or row.expires_at <= now:
        return None
    user = await session.get(User, row.user_id)
    return None if user is None else (user, row)


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))


async def end_all_sessions(session: AsyncSession, user_id: int) -> int:
    """Sign the user out of every browser."""
    result = await session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


# API tokens --------------------------------------------------------------------------


async def create_api_token(
    session: AsyncSession, user_id: int, name: str, now: datetime
) -> tuple[ApiToken, str]:
    """A new token; the secret is returned once and only its hash is kept."""
    label = name.strip()[:100] or "script"
    count = await session.scalar(select(func.count()).where(ApiToken.user_id == user_id))
    if (count or 0) >= 20:
        raise BadInput("You have 20 API tokens already; delete one first.")
    secret = "tt_" + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user_id, name=label, token_hash=digest(secret), created_at=now)
    session.add(token)
    await session.flush()
    return token, secret


async def user_for_api_token(session: AsyncSession, secret: str, now: datetime) -> User | None:
    token = await session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if token is None:
        return None
    # Written at most every few minutes, so a busy script does not turn every read into a write.
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        token.last_used_at = now
    return await session.get(User, token.user_id)


async def list_api_tokens(session: AsyncSession, user_id: int) -> list[ApiToken]:
    rows = await session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
    )
    return list(rows)


async def delete_api_token(session: AsyncSession, user_id: int, token_id: int) -> None:
    result = await session.execute(
        delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("No such API token.")


# Identities --------------------------------------------------------------------------


async def list_identities(session: AsyncSession, user_id: int) -> list[Identity]:
    rows = await session.scalars(
        select(Identity).where(Identity.user_id == user_id).order_by(Identity.id)
    )
    return list(rows)


async def unlink_identity(session: AsyncSession, user_id: int, identity_id: int) -> None:
    """Detach a platform account; its next message starts a new, empty user."""
    identity = await session.scalar(
        select(Identity).where(Identity.id == identity_id, Identity.user_id == user_id)
    )
    if identity is None:
        raise NotFound("No such linked account.")
    await session.delete(identity)


# Link codes --------------------------------------------------------------------------


def _new_code() -> str:
    raw = "".join(secrets.choice(LINK_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


async def create_link_code(session: AsyncSession, user_id: int, now: datetime) -> str:
    """A one-time code (valid LINK_CODE_TTL) that another account of the same person enters.
    Making a new code voids the user's earlier ones."""
    await session.execute(delete(LinkCode).where(LinkCode.user_id == user_id))
    code = _new_code()
    session.add(
        LinkCode(
            code_hash=digest(_normalise_code(code)),
            user_id=user_id,
            created_at=now,
            expires_at=now + LINK_CODE_TTL,
        )
    )
    await session.flush()
    return code


async def redeem_link_code(
    session: AsyncSession, code: str, redeemer_id: int, now: datetime
) -> int:
    """Join the redeemer with the account that made the code. The code's maker keeps its
    id; everything of the redeemer moves to it. Returns the surviving user id."""
    row = await session.scalar(
        select(LinkCode)
        .where(LinkCode.code_hash == digest(_normalise_code(code)))
        .with_for_update()
    )
    if row is None or row.expires_at <= now:
        raise BadInput(
            "That link code is not valid (codes work once, for 10 minutes). "
            "Send /link for a fresh one."
        )
    survivor = row.user_id
    await session.delete(row)
    await session.flush()
    if survivor == redeemer_id:
        raise BadInput("That code is from this same account; enter it on your other account.")
    await userdata.merge_users(session, source_id=redeemer_id, target_id=survivor)
    return survivor
