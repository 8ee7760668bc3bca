"""Password accounts, browser sessions, linked identities and one-time link codes (API
tokens: tokens.py; links sent by email: email_links.py)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import userdata
from core.accounts.models import ApiToken, LinkCode, WebSession
from core.db import rows_affected
from core.errors import BadInput, NotFound
from core.identity.models import Identity, User

SESSION_TTL = timedelta(days=30)
LINK_CODE_TTL = timedelta(minutes=10)
LINK_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and retyped
MIN_PASSWORD = 10
MAX_PASSWORD = 1000

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


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise BadInput(f"Use a password of at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise BadInput(f"Use a password of at most {MAX_PASSWORD} characters.")
    return _hasher.hash(password)


def password_matches(user: User, password: str) -> bool:
    if user.password_hash is None:
        _hasher.hash(password)  # spend the same time as a real check
        return False
    try:
        return bool(_hasher.verify(user.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


async def _email_taken(session: AsyncSession, address: str, user_id: int | None = None) -> bool:
    query = select(User.id).where(User.email == address)
    if user_id is not None:
        query = query.where(User.id != user_id)
    return await session.scalar(query) is not None


async def sign_up(session: AsyncSession, email: str, password: str, display_name: str) -> User:
    """A new password account. Its address is unverified until the link sent to it is
    opened: until then no other sign-in method (Google) can reach this account."""
    address = normalise_email(email)
    password_hash = hash_password(password)
    if await _email_taken(session, address):
        raise BadInput("There is already an account with that email. Sign in instead.")
    user = User(
        display_name=display_name.strip()[:200] or address.split("@")[0],
        email=address,
        password_hash=password_hash,
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
    if user is None:
        _hasher.hash(password)  # spend the same time as a real check
        return None
    if not password_matches(user, password):
        return None
    assert user.password_hash is not None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


@dataclass(frozen=True)
class SignInChange:
    email_changed: bool
    password_changed: bool


async def change_sign_in(
    session: AsyncSession,
    user: User,
    *,
    current_password: str,
    email: str,
    new_password: str = "",
    keep_session: str | None = None,
) -> SignInChange:
    """Change the address and/or the password. An account that has a password must give
    it; a new address is unverified until its link is opened. Any change signs every other
    browser out (`keep_session` is the token of the one making the change)."""
    if user.password_hash is not None and not password_matches(user, current_password):
        raise BadInput("Your current password is not right.")
    address = normalise_email(email) if email.strip() else user.email
    if address is None:
        raise BadInput("Enter an email address.")
    if user.password_hash is None and not new_password:
        raise BadInput("Choose a password to sign in with this email.")
    password_hash = hash_password(new_password) if new_password else None
    if address != user.email and await _email_taken(session, address, user.id):
        raise BadInput("Another account uses that email.")
    change = SignInChange(address != user.email, password_hash is not None)
    if change.email_changed:
        user.email = address
        user.email_verified_at = None
    if password_hash is not None:
        user.password_hash = password_hash
    if change.email_changed or change.password_changed:
        await end_other_web_sessions(session, user.id, keep_session)
    return change


async def set_password(session: AsyncSession, user: User, email: str, password: str) -> None:
    """Give an account made in chat (or with Google) an email and password. An account
    that has a password already changes it with `change_sign_in`."""
    if user.password_hash is not None:
        raise BadInput("This account has a password; change it with your current one.")
    await change_sign_in(session, user, current_password="", email=email, new_password=password)


# Browser sessions --------------------------------------------------------------------


@dataclass(frozen=True)
class NewWebSession:
    token: str
    csrf_token: str
    expires_at: datetime


async def start_web_session(
    session: AsyncSession, user_id: int, now: datetime, user_agent: str = ""
) -> NewWebSession:
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
    return NewWebSession(token, row.csrf_token, row.expires_at)


async def web_session_user(
    session: AsyncSession, token: str, now: datetime
) -> tuple[User, WebSession] | None:
    row = await session.get(WebSession, digest(token))
    if row is None or row.expires_at <= now:
        return None
    user = await session.get(User, row.user_id)
    return None if user is None else (user, row)


async def end_web_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))


async def end_all_web_sessions(session: AsyncSession, user_id: int) -> int:
    """Sign the user out of every browser."""
    result = await session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return rows_affected(result)


async def end_other_web_sessions(session: AsyncSession, user_id: int, keep: str | None) -> None:
    """Sign the user out of every browser but the one with session token `keep`."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep is not None:
        query = query.where(WebSession.token_hash != digest(keep))
    await session.execute(query)


async def sign_out_everywhere(session: AsyncSession, user_id: int) -> None:
    """End every browser session and revoke every API token and unused link code."""
    await end_all_web_sessions(session, user_id)
    await session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    await session.execute(delete(LinkCode).where(LinkCode.user_id == user_id))


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


async def create_link_code(
    session: AsyncSession, user_id: int, now: datetime, token_id: int | None = None
) -> str:
    """A one-time code (valid LINK_CODE_TTL) that another account of the same person enters.
    Making a new code voids the user's earlier ones. `token_id`: the API token that asked
    for it (revoking that token voids the code)."""
    await session.execute(delete(LinkCode).where(LinkCode.user_id == user_id))
    code = _new_code()
    session.add(
        LinkCode(
            code_hash=digest(_normalise_code(code)),
            user_id=user_id,
            created_at=now,
            expires_at=now + LINK_CODE_TTL,
            token_id=token_id,
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
