"""Write notifications to the outbox; adapters claim and deliver them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.messages import Button, Reply
from core.identity.models import Identity, Room, User
from core.identity.service import in_quiet_hours, user_zone
from core.notify.models import LiveMessage, OutboxMessage

MAX_ATTEMPTS = 8


def after_quiet_hours(user: User, at: datetime) -> datetime:
    """`at`, or the end of the user's quiet hours when `at` falls inside them."""
    zone = user_zone(user)
    local = at.astimezone(zone)
    if user.quiet_end is None or not in_quiet_hours(user, local.time()):
        return at
    end = local.replace(
        hour=user.quiet_end.hour, minute=user.quiet_end.minute, second=0, microsecond=0
    )
    if end <= local:
        end += timedelta(days=1)
    return end


async def reachable_identity(session: AsyncSession, user_id: int) -> Identity | None:
    """The account the user was last active on that can receive direct messages."""
    return await session.scalar(
        select(Identity)
        .where(
            Identity.user_id == user_id,
            Identity.dm_chat_id.is_not(None),
            Identity.unreachable.is_(False),
        )
        .order_by(Identity.last_seen_at.desc())
        .limit(1)
    )


async def notify_user(
    session: AsyncSession,
    user: User,
    *,
    kind: str,
    text: str,
    dedupe_key: str,
    at: datetime,
    buttons: Sequence[Button] = (),
    respect_quiet_hours: bool = True,
    live_id: str | None = None,
) -> bool:
    """Queue a direct message; False when the user has no reachable account or the same
    `dedupe_key` was queued before."""
    identity = await reachable_identity(session, user.id)
    if identity is None or identity.dm_chat_id is None:
        return False
    deliver_after = after_quiet_hours(user, at) if respect_quiet_hours else at
    return await _insert(
        session,
        dedupe_key=dedupe_key,
        user_id=user.id,
        room_id=None,
        platform=identity.platform,
        chat_id=identity.dm_chat_id,
        kind=kind,
        text=text,
        buttons=[{"label": b.label, "action": b.action} for b in buttons],
        deliver_after=deliver_after,
        live_id=live_id,
    )


async def notify_room(
    session: AsyncSession,
    room: Room,
    *,
    kind: str,
    text: str,
    dedupe_key: str,
    at: datetime,
    buttons: Sequence[Button] = (),
    live_id: str | None = None,
) -> bool:
    external_id = room.external_id.split("/", 1)[0]
    return await _insert(
        session,
        dedupe_key=dedupe_key,
        user_id=None,
        room_id=room.id,
        platform=room.platform,
        chat_id=external_id,
        kind=kind,
        text=text,
        buttons=[{"label": b.label, "action": b.action} for b in buttons],
        deliver_after=at,
        live_id=live_id,
    )


async def _insert(session: AsyncSession, **values: object) -> bool:
    inserted = await session.scalar(
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    return inserted is not None


async def claim_due(
    session: AsyncSession, platform: str, now: datetime, limit: int = 50, chat_id: str | None = None
) -> list[OutboxMessage]:
    """Lock up to `limit` due messages for this platform. Concurrent deliverers skip each
    other's rows; the caller marks each one delivered or failed in the same transaction."""
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.platform == platform,
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.deliver_after <= now,
            OutboxMessage.attempts < MAX_ATTEMPTS,
        )
        .order_by(OutboxMessage.deliver_after, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if chat_id is not None:
        query = query.where(OutboxMessage.chat_id == chat_id)
    return list(await session.scalars(query))


def mark_delivered(message: OutboxMessage, now: datetime) -> None:
    message.delivered_at = now
    message.attempts += 1


def mark_failed(message: OutboxMessage, now: datetime, error: str, *, retry_in: timedelta) -> None:
    message.attempts += 1
    message.last_error = error[:1000]
    message.deliver_after = now + retry_in


async def mark_unreachable(session: AsyncSession, platform: str, chat_id: str) -> None:
    """The platform refuses direct messages to this account (blocked bot, closed DMs)."""
    await session.execute(
        update(Identity)
        .where(Identity.platform == platform, Identity.dm_chat_id == chat_id)
        .values(unreachable=True)
    )


async def live_message_id(
    session: AsyncSession, platform: str, chat_id: str, live_id: str
) -> str | None:
    return await session.scalar(
        select(LiveMessage.message_id).where(
            LiveMessage.platform == platform,
            LiveMessage.chat_id == chat_id,
            LiveMessage.live_id == live_id,
        )
    )


async def remember_live_message(
    session: AsyncSession, platform: str, chat_id: str, live_id: str, message_id: str
) -> None:
    await session.execute(
        insert(LiveMessage)
        .values(platform=platform, chat_id=chat_id, live_id=live_id, message_id=message_id)
        .on_conflict_do_update(
            index_elements=["platform", "chat_id", "live_id"], set_={"message_id": message_id}
        )
    )


def as_reply(message: OutboxMessage) -> Reply:
    """An outbox row as a reply, so notifications render like any other message."""
    buttons = [Button(b["label"], b["action"]) for b in message.buttons]
    return Reply.text(message.text, buttons, live_id=message.live_id)
