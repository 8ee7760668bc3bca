"""Links sent by email: confirming an address and resetting a password.

A link carries the user id, an expiry and an HMAC (SECRET_KEY) over those and over what the
link must not outlive: the address for a confirmation, the address and password hash for a
reset. Nothing is stored; a reset link works once because using it changes the password
hash, and a new address voids the links sent to the old one."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import service
from core.accounts.mail import Mail, reset_mail, verification_mail
from core.errors import BadInput
from core.identity.models import User

VERIFY = "verify-email"
RESET = "reset-password"
TTL = {VERIFY: timedelta(days=2), RESET: timedelta(hours=1)}
PATH = {VERIFY: "/verify-email", RESET: "/reset-password"}
INVALID = (
    "That link is not valid any more (links expire, and a reset link works once). "
    "Ask for a new one."
)


def _bound_state(purpose: str, user: User) -> str:
    """What the link is bound to: it stops working once any of it changes."""
    if purpose == VERIFY:
        return user.email or ""
    return f"{user.email or ''}|{user.password_hash or ''}"


def _mac(secret: str, purpose: str, user_id: int, expires: int, state: str) -> str:
    message = f"{purpose}|{user_id}|{expires}|{state}".encode()
    raw = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_token(secret: str, purpose: str, user: User, now: datetime) -> str:
    expires = int((now + TTL[purpose]).timestamp())
    mac = _mac(secret, purpose, user.id, expires, _bound_state(purpose, user))
    return f"{user.id}.{expires}.{mac}"


def link_for(base_url: str, secret: str, purpose: str, user: User, now: datetime) -> str:
    return f"{base_url.rstrip('/')}{PATH[purpose]}?token={make_token(secret, purpose, user, now)}"


async def _user_for_token(
    session: AsyncSession, secret: str, purpose: str, token: str, now: datetime
) -> User:
    """The user a valid, unexpired link is for (row locked, so a reset is used once)."""
    parts = token.strip().split(".")
    # compare_digest raises TypeError on non-ASCII text, so the MAC part is checked too.
    if len(parts) != 3 or not all(part.isascii() for part in parts):
        raise BadInput(INVALID)
    if not (parts[0].isdigit() and parts[1].isdigit()) or len(parts[0]) > 18:
        raise BadInput(INVALID)
    # 18 digits fit a bigint; 11 digits of expiry end in the year 5138, before datetime's
    # limit of 9999 (and far before int()'s limit of 4,300 digits).
    if len(parts[1]) > 11:
        raise BadInput(INVALID)
    user_id, expires = int(parts[0]), int(parts[1])
    if datetime.fromtimestamp(expires, UTC) <= now:
        raise BadInput(INVALID)
    user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None or user.email is None:
        raise BadInput(INVALID)
    expected = _mac(secret, purpose, user_id, expires, _bound_state(purpose, user))
    if not hmac.compare_digest(expected, parts[2]):
        raise BadInput(INVALID)
    return user


# Confirming an address -----------------------------------------------------------------


def confirmation_mail(user: User, base_url: str, secret: str, now: datetime) -> Mail:
    assert user.email is not None
    link = link_for(base_url, secret, VERIFY, user, now)
    return verification_mail(user.email, user.display_name or "there", link)


async def confirm_email(session: AsyncSession, secret: str, token: str, now: datetime) -> User:
    """Mark the address the link was sent to as verified (again: harmless)."""
    user = await _user_for_token(session, secret, VERIFY, token, now)
    if user.email_verified_at is None:
        user.email_verified_at = now
    return user


# Resetting a password ------------------------------------------------------------------


async def password_reset_mail(
    session: AsyncSession, email: str, base_url: str, secret: str, now: datetime
) -> Mail | None:
    """The reset message for the account with this address, or None when there is none
    (the page says the same either way, so it does not reveal who has an account)."""
    try:
        address = service.normalise_email(email)
    except BadInput:
        return None
    user = await session.scalar(select(User).where(User.email == address))
    if user is None:
        return None
    link = link_for(base_url, secret, RESET, user, now)
    return reset_mail(address, user.display_name or "there", link)


async def check_reset_link(session: AsyncSession, secret: str, token: str, now: datetime) -> User:
    return await _user_for_token(session, secret, RESET, token, now)


async def reset_password(
    session: AsyncSession, secret: str, token: str, password: str, now: datetime
) -> User:
    """Set a new password through a reset link. The link proved the address, so it counts
    as verified; whoever else was signed in (sessions, API tokens, link codes) is out."""
    user = await _user_for_token(session, secret, RESET, token, now)
    user.password_hash = service.hash_password(password)
    if user.email_verified_at is None:
        user.email_verified_at = now
    await service.sign_out_everywhere(session, user.id)
    return user
