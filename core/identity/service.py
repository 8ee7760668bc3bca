"""Who is speaking and where: identities, users, rooms and memberships."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.chat.messages import Conversation, Sender
from core.identity import preferences
from core.identity.models import Identity, LinkedChat, Membership, ProcessedEvent, Room, User

LAST_SEEN_RESOLUTION = timedelta(minutes=5)

# The settings half of identity lives in core.identity.preferences; these names stay here
# for the callers that read them as `identity.service.<name>`.
MAX_DISPLAY_NAME = preferences.MAX_DISPLAY_NAME
in_quiet_hours = preferences.in_quiet_hours
parse_clock_time = preferences.parse_clock_time
parse_digest_time = preferences.parse_digest_time
parse_quiet_hours = preferences.parse_quiet_hours
parse_timezone = preferences.parse_timezone
update_settings = preferences.update_settings
user_zone = preferences.user_zone


async def user_for_sender(
    session: AsyncSession,
    sender: Sender,
    now: datetime,
    *,
    default_timezone: str = "UTC",
    dm_chat_id: str | None = None,
) -> User:
    """The user behind a platform account; the first message from an unknown account
    creates the user (no sign-up wall). `dm_chat_id` records where direct messages to
    this account go (for reminders and digests); until one is known, the sender's
    `direct_address` (if the platform has one) stands in for it."""
    row = (
        await session.execute(
            select(Identity, User)
            .join(User, User.id == Identity.user_id)
            .where(Identity.platform == sender.platform, Identity.external_id == sender.external_id)
        )
    ).first()
    if row is None:
        return await _create_user(session, sender, now, default_timezone, dm_chat_id)
    identity, user = row
    _note_seen(identity, sender, now, dm_chat_id)
    return user


@dataclass(frozen=True)
class Speaker:
    """Who sent an event and, in a group chat, the room it was sent in."""

    user: User
    room: Room | None


async def speaker_for_event(
    session: AsyncSession,
    sender: Sender,
    chat: Conversation,
    now: datetime,
    *,
    event_id: str | None,
    default_timezone: str = "UTC",
) -> Speaker | None:
    """The user (and, in a group chat, the room) behind one event, found by the same
    statement that records `event_id` as processed; None when it was processed before.
    A person, room or membership seen for the first time is created, as by
    `user_for_sender` and `room_for_chat`; once they exist this is one statement."""
    statement = _arrival(event_id is not None, not chat.is_direct)
    params = {
        "sender_platform": sender.platform,
        "sender_id": sender.external_id,
        "chat_platform": chat.platform,
        "event": event_id,
        "room_key": _room_key(chat),
        "seen_at": now,
        "seen_before": now - LAST_SEEN_RESOLUTION,
    }
    found = (await session.execute(statement, params)).one()
    if not found.fresh:
        return None
    dm_chat_id = chat.external_id if chat.is_direct else None
    user: User | None = found.User
    if user is None:
        user = await _create_user(session, sender, now, default_timezone, dm_chat_id)
    else:
        await _note_seen_by_id(session, found, sender, dm_chat_id)
    if chat.is_direct:
        return Speaker(user, None)
    room: Room | None = found.Room if found.User is not None else None
    if room is None:
        return Speaker(user, await room_for_chat(session, chat, user))
    await _settle_room(session, chat, room, found.membership_id, user)
    if found.shared_room_id is None:
        return Speaker(user, room)
    return Speaker(user, await _shared_room(session, found.shared_room_id, user))


async def _note_seen_by_id(
    session: AsyncSession, found: Row[Any], sender: Sender, dm_chat_id: str | None
) -> None:
    """`_note_seen` for an identity read as columns: an UPDATE only when something changed."""
    changes = _seen_changes(found.display_name, found.dm_chat_id, sender, dm_chat_id)
    if changes:
        await session.execute(
            update(Identity).where(Identity.id == found.identity_id).values(**changes)
        )


@cache
def _arrival(recorded: bool, in_room: bool) -> Select[Any]:
    """One row: is the event new (inserted when `recorded`); the identity's id, name and DM
    chat; the user (the one ORM object); `in_room`, room and membership id; NULL where none.
    Moves `last_seen_at` on too. Built once per shape: building it cost more than running it."""
    # Parameter names differ from column names: an UPDATE would take those as SET values.
    touched = (
        update(Identity)
        .where(
            Identity.platform == bindparam("sender_platform"),
            Identity.external_id == bindparam("sender_id"),
            Identity.last_seen_at < bindparam("seen_before"),
        )
        .values(last_seen_at=bindparam("seen_at"))
        .returning(Identity.id)
        .cte("touched")
    )
    touches = select(func.count()).select_from(touched).scalar_subquery().label("touched")
    if recorded:
        inserted = (
            insert(ProcessedEvent)
            .values(platform=bindparam("chat_platform"), event_id=bindparam("event"))
            .on_conflict_do_nothing()
            .returning(ProcessedEvent.event_id)
            .cte("inserted")
        )
        arrival = select(func.count().label("fresh")).select_from(inserted).subquery("arrival")
    else:
        arrival = select(literal(1).label("fresh")).subquery("arrival")
    statement = (
        select(
            arrival.c.fresh,
            Identity.id.label("identity_id"),
            Identity.display_name,
            Identity.dm_chat_id,
            User,
            touches,
        )
        .select_from(arrival)
        .outerjoin(
            Identity,
            (Identity.platform == bindparam("sender_platform"))
            & (Identity.external_id == bindparam("sender_id")),
        )
        .outerjoin(User, User.id == Identity.user_id)
    )
    if not in_room:
        return statement
    return (
        statement.add_columns(Room, Membership.id.label("membership_id"), _shared_room_id())
        .outerjoin(
            Room,
            (Room.platform == bindparam("chat_platform"))
            & (Room.external_id == bindparam("room_key")),
        )
        .outerjoin(
            Membership, (Membership.room_id == Room.id) & (Membership.user_id == Identity.user_id)
        )
    )


def _shared_room_id() -> Any:
    """The room a chat's room joined (`LinkedChat`), NULL when it is a room of its own."""
    return (
        select(LinkedChat.room_id)
        .where(LinkedChat.chat_room_id == Room.id)
        .scalar_subquery()
        .label("shared_room_id")
    )


async def _shared_room(session: AsyncSession, room_id: int, user: User) -> Room:
    """The linked room a chat belongs to; whoever speaks in any of its chats is a member."""
    room = await session.get(Room, room_id)
    assert room is not None  # the link row cascades with the room
    await ensure_member(session, room, user)
    return room


def _note_seen(identity: Identity, sender: Sender, now: datetime, dm_chat_id: str | None) -> None:
    if now - identity.last_seen_at > LAST_SEEN_RESOLUTION:
        identity.last_seen_at = now
    changes = _seen_changes(identity.display_name, identity.dm_chat_id, sender, dm_chat_id)
    for name, value in changes.items():
        setattr(identity, name, value)


def _seen_changes(
    display_name: str, known_dm_chat_id: str | None, sender: Sender, dm_chat_id: str | None
) -> dict[str, object]:
    """What an identity's name and direct chat become from what the platform says now."""
    changes: dict[str, object] = {}
    if sender.display_name and display_name != sender.display_name:
        changes["display_name"] = sender.display_name
    if dm_chat_id is not None and known_dm_chat_id != dm_chat_id:
        changes["dm_chat_id"] = dm_chat_id
        changes["unreachable"] = False
    elif known_dm_chat_id is None and sender.direct_address is not None:
        changes["dm_chat_id"] = sender.direct_address
    return changes


async def direct_chat_opened(
    session: AsyncSession, platform: str, address: str, chat_id: str
) -> None:
    """The adapter opened a direct chat for an account known by its `direct_address`:
    later messages go straight to `chat_id`."""
    await session.execute(
        update(Identity)
        .where(Identity.platform == platform, Identity.dm_chat_id == address)
        .values(dm_chat_id=chat_id, unreachable=False)
    )


async def _create_user(
    session: AsyncSession,
    sender: Sender,
    now: datetime,
    default_timezone: str,
    dm_chat_id: str | None,
) -> User:
    user = User(
        display_name=sender.display_name or sender.external_id,
        timezone=default_timezone,
        locale=sender.locale or "en",
    )
    session.add(user)
    await session.flush()
    inserted = await session.scalar(
        insert(Identity)
        .values(
            user_id=user.id,
            platform=sender.platform,
            external_id=sender.external_id,
            display_name=sender.display_name,
            dm_chat_id=dm_chat_id or sender.direct_address,
            last_seen_at=now,
        )
        .on_conflict_do_nothing(index_elements=["platform", "external_id"])
        .returning(Identity.id)
    )
    if inserted is None:
        # Another process created this identity at the same moment: use theirs.
        await session.delete(user)
        await session.flush()
        return await user_for_sender(
            session, sender, now, default_timezone=default_timezone, dm_chat_id=dm_chat_id
        )
    return user


async def known_user(session: AsyncSession, sender: Sender) -> User | None:
    """The user behind a platform account, or None for an account never seen (read-only)."""
    return await session.scalar(
        select(User)
        .join(Identity, Identity.user_id == User.id)
        .where(Identity.platform == sender.platform, Identity.external_id == sender.external_id)
    )


async def known_room(session: AsyncSession, chat: Conversation, user: User) -> Room | None:
    """The room of a group chat (the linked room it joined, if any) if `user` is already a
    member of it (read-only)."""
    own = aliased(Room)
    chat_room = (
        select(own.id)
        .where(own.platform == chat.platform, own.external_id == _room_key(chat))
        .scalar_subquery()
    )
    shared = select(LinkedChat.room_id).where(LinkedChat.chat_room_id == chat_room)
    return await session.scalar(
        select(Room)
        .join(Membership, Membership.room_id == Room.id)
        .where(
            Room.id == func.coalesce(shared.scalar_subquery(), chat_room),
            Membership.user_id == user.id,
        )
    )


async def chat_room(session: AsyncSession, chat: Conversation) -> Room | None:
    """The chat's own room, even when the chat joined a linked room (read-only)."""
    return await session.scalar(
        select(Room).where(Room.platform == chat.platform, Room.external_id == _room_key(chat))
    )


async def linked_chat_rooms(
    session: AsyncSession, room_ids: Iterable[int]
) -> dict[int, list[Room]]:
    """For each room, the chats that joined it (`/room join`), oldest link first; rooms
    nobody joined are left out."""
    wanted = set(room_ids)
    if not wanted:
        return {}
    rows = await session.execute(
        select(LinkedChat.room_id, Room)
        .join(Room, Room.id == LinkedChat.chat_room_id)
        .where(LinkedChat.room_id.in_(wanted))
        .order_by(LinkedChat.linked_at, Room.id)
    )
    found: dict[int, list[Room]] = {}
    for room_id, chat in rows.all():
        found.setdefault(room_id, []).append(chat)
    return found


def _room_key(chat: Conversation) -> str:
    return chat.external_id if chat.thread_id is None else f"{chat.external_id}/{chat.thread_id}"


async def room_for_chat(session: AsyncSession, chat: Conversation, user: User) -> Room:
    """The room for a group chat, created on first activity; the speaker becomes a member.
    Every message in a room comes through here: when both exist this is one SELECT."""
    external_id = _room_key(chat)
    found = await _room_and_membership(session, chat.platform, external_id, user.id)
    if found is None:
        await session.execute(
            insert(Room)
            .values(platform=chat.platform, external_id=external_id, title=chat.title)
            .on_conflict_do_nothing(index_elements=["platform", "external_id"])
        )
        found = await _room_and_membership(session, chat.platform, external_id, user.id)
        assert found is not None
    room, membership_id, shared_id = found
    await _settle_room(session, chat, room, membership_id, user)
    return room if shared_id is None else await _shared_room(session, shared_id, user)


async def _settle_room(
    session: AsyncSession, chat: Conversation, room: Room, membership_id: int | None, user: User
) -> None:
    if chat.title and room.title != chat.title:
        room.title = chat.title
    if membership_id is None:
        await ensure_member(session, room, user)


async def _room_and_membership(
    session: AsyncSession, platform: str, external_id: str, user_id: int
) -> tuple[Room, int | None, int | None] | None:
    row = (
        await session.execute(
            select(Room, Membership.id, _shared_room_id())
            .outerjoin(
                Membership, (Membership.room_id == Room.id) & (Membership.user_id == user_id)
            )
            .where(Room.platform == platform, Room.external_id == external_id)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


async def ensure_member(
    session: AsyncSession, room: Room, user: User, role: str = "member"
) -> None:
    await session.execute(
        insert(Membership)
        .values(room_id=room.id, user_id=user.id, role=role)
        .on_conflict_do_nothing(index_elements=["room_id", "user_id"])
    )


async def rooms_of(session: AsyncSession, user_id: int) -> list[Room]:
    """The rooms the user is a member of, by title."""
    found = await session.scalars(
        select(Room)
        .join(Membership, Membership.room_id == Room.id)
        .where(Membership.user_id == user_id)
        .order_by(Room.title, Room.id)
    )
    return list(found)


async def is_member(session: AsyncSession, room_id: int, user_id: int) -> bool:
    found = await session.scalar(
        select(Membership.id).where(Membership.room_id == room_id, Membership.user_id == user_id)
    )
    return found is not None
