"""Which user an OpenID Connect sign-in (Google) lands in. The one rule that matters: an
address matches an existing account only when both sides proved it, the provider (its
`email_verified` claim) and the account (`users.email_verified_at`). Otherwise anyone could
sign up with someone else's address and wait for its owner to sign in with Google."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import userdata
from core.chat.messages import Sender
from core.identity import service as identity
from core.identity.models import Identity, User


@dataclass(frozen=True)
class OidcClaims:
    platform: str
    subject: str
    name: str
    email: str | None
    email_verified: bool


async def user_for_oidc(
    session: AsyncSession,
    claims: OidcClaims,
    signed_in: int | None,
    now: datetime,
    default_timezone: str = "UTC",
) -> int:
    """The user id to sign in. Signed in already: the provider's account joins that user.
    Otherwise its known identity, else the account whose *verified* address matches, else a
    new user (holding the address only if no other account claims it)."""
    existing = await session.scalar(
        select(Identity).where(
            Identity.platform == claims.platform, Identity.external_id == claims.subject
        )
    )
    email = claims.email.strip().lower() if claims.email and claims.email_verified else None
    if signed_in is not None:
        user = await session.get(User, signed_in)
        if user is not None and email is not None and user.email == email:
            user.email_verified_at = user.email_verified_at or now  # Google proved it
        if existing is None:
            _add_identity(session, signed_in, claims)
        elif existing.user_id != signed_in:
            await userdata.merge_users(session, source_id=existing.user_id, target_id=signed_in)
        return signed_in
    if existing is not None:
        return existing.user_id
    holder = None
    if email is not None:
        holder = await session.scalar(select(User).where(User.email == email))
        if holder is not None and holder.email_verified_at is not None:
            _add_identity(session, holder.id, claims)
            return holder.id
    new = await identity.user_for_sender(
        session,
        Sender(claims.platform, claims.subject, claims.name),
        now,
        default_timezone=default_timezone,
    )
    # An unverified account holding the address keeps it (its owner can still prove it
    # with a password reset); the new user simply has no address yet.
    if email is not None and holder is None:
        new.email = email
        new.email_verified_at = now
    return new.id


def _add_identity(session: AsyncSession, user_id: int, claims: OidcClaims) -> None:
    session.add(
        Identity(
            user_id=user_id,
            platform=claims.platform,
            external_id=claims.subject,
            display_name=claims.name,
        )
    )
