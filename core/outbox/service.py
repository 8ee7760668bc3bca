"""Write notifications to the outbox; adapters claim and deliver them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.messages import Button, Reply
from core.identity.models import Identity, Room, User
from core.identity.service import in_quiet_hours, linked_chat_rooms, user_zone
from core.outbox.models import LiveMessage, OutboxMessage

MAX_ATTEMPTS = 8
# Rows per INSERT statement: 11 parameters each, far below PostgreSQL's 32,767.
INSERT_ROWS = 1000


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
    return (await reachable_identities(session, [user_id])).get(user_id)


async def reachable_identities(
    session: AsyncSession, user_ids: Iterable[int]
) -> dict[int, Identity]:
    """`reachable_identity` of many users in one query."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    rows = await session.scalars(
        select(Identity)
        .where(
            Identity.user_id.in_(wanted),
            Identity.dm_chat_id.is_not(None),
            Identity.unreachable.is_(False),
        )
        .order_by(Identity.user_id, Identity.last_seen_at.desc())
        .ext(distinct_on(Identity.user_id))
    )
    return {identity.user_id: identity for identity in rows}


@dataclass(frozen=True)
class Notice:
    """One notification to queue: to `user`'s direct chat, or to `room`'s chat.

    Quiet hours are a person's setting and hold only notices to that person. A room's
    messages (a room task's reminder, the focus timer, a document's progress) go to the
    channel at once: members' quiet hours differ, a timer held until morning would be
    wrong, and a channel that should stay silent is muted on the platform itself. Rooms
    have no quiet-hours setting of their own."""

    kind: str
    text: str
    dedupe_key: str
    at: datetime
    user: User | None = None
    room: Room | None = None
    buttons: Sequence[Button] = ()
    respect_quiet_hours: bool = True
    live_id: str | None = None
    # A linked room's notice goes to every chat of the room (see core.rooms.linking) but
    # this one, which was answered directly.
    except_chat_id: int | None = None


async def queue_notices(session: AsyncSession, notices: Sequence[Notice]) -> int:
    """Queue many notifications with one identity look-up and one multi-row INSERT; a
    `dedupe_key` queued before is skipped. Returns how many rows were added (notices to
    users without a reachable account are dropped)."""
    identities = await reachable_identities(
        session, {n.user.id for n in notices if n.user is not None}
    )
    linked = await linked_chat_rooms(session, {n.room.id for n in notices if n.room is not None})
    rows = [row for n in notices for row in _rows(n, identities, linked)]
    if not rows:
        return 0
    added = 0
    for start in range(0, len(rows), INSERT_ROWS):
        # A key twice in one statement: ON CONFLICT DO NOTHING keeps the first row.
        inserted = await session.scalars(
            insert(OutboxMessage)
            .values(rows[start : start + INSERT_ROWS])
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(OutboxMessage.id)
        )
        added += len(inserted.all())
    return added


def _rows(
    notice: Notice, identities: dict[int, Identity], linked: dict[int, list[Room]]
) -> list[dict[str, Any]]:
    """The outbox rows of one notice: one to a user, or one per chat of a room (a linked
    room's other chats get the same key with their own suffix)."""
    if notice.room is None:
        row = _row(notice, identities)
        return [] if row is None else [row]
    chats = [notice.room, *linked.get(notice.room.id, ())]
    rows = []
    for chat in chats:
        if chat.id == notice.except_chat_id:
            continue
        key = notice.dedupe_key if chat is notice.room else f"{notice.dedupe_key}@{chat.id}"
        row = _row(replace(notice, room=chat, dedupe_key=key), identities)
        if row is not None:
            rows.append(row)
    return rows


def _row(notice: Notice, identities: dict[int, Identity]) -> dict[str, Any] | None:
    values: dict[str, Any] = {
        "dedupe_key": notice.dedupe_key,
        "kind": notice.kind,
        "text": notice.text,
        "buttons": [{"label": b.label, "action": b.action} for b in notice.buttons],
        "live_id": notice.live_id,
    }
    if notice.user is not None:
        identity = identities.get(notice.user.id)
        if identity is None or identity.dm_chat_id is None:
            return None
        held = notice.respect_quiet_hours
        deliver_after = after_quiet_hours(notice.user, notice.at) if held else notice.at
        return values | {
            "user_id": notice.user.id,
            "room_id": None,
            "platform": identity.platform,
            "chat_id": identity.dm_chat_id,
            "deliver_after": deliver_after,
        }
    if notice.room is None:
        raise ValueError("a notice needs a user or a room")
    return values | {
        "user_id": None,
        "room_id": notice.room.id,
        "platform": notice.room.platform,
        "chat_id": notice.room.external_id.split("/", 1)[0],
        "deliver_after": notice.at,  # never held by quiet hours: see Notice
    }


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
    notice = Notice(
        kind,
        text,
        dedupe_key,
        at,
        user=user,
        buttons=buttons,
        respect_quiet_hours=respect_quiet_hours,
        live_id=live_id,
    )
    return await queue_notices(session, [notice]) == 1


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
    """Queue a message to the room's chat, delivered from `at` whatever the members'
    quiet hours (see `Notice`). False when the same `dedupe_key` was queued before."""
    notice = Notice(kind, text, dedupe_key, at, room=room, buttons=buttons, live_id=live_id)
    return await queue_notices(session, [notice]) == 1


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
