"""Linked rooms: chats on different platforms (or different groups and servers on the same
one) that share one room. An admin runs `/room link` in a chat of the room and gets a
one-time code; an admin of another chat sends `/room join <code>` there, and that chat
joins the room (`LinkedChat`). From then on everything said in the joined chat acts on the
shared room: one focus session, the room's tasks, decks, documents, leaderboard and study
time. Each chat keeps its own `Room` row, which says where its messages go.

People in one chat see the others' display names and each chat's title and platform,
never a platform id."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.markup import escape
from core.errors import BadInput, Forbidden
from core.identity.models import LinkedChat, Membership, Room, User
from core.identity.service import linked_chat_rooms
from core.outbox.service import Notice, queue_notices
from core.rooms.membership import is_room_admin, require_member, room_settings
from core.rooms.models import RoomLinkCode

CODE_LIFETIME = timedelta(minutes=15)
# Crockford's base32 without look-alikes: codes are read aloud and typed on phones.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # about 49 bits: unguessable within a code's lifetime
PLATFORM_NAMES = {"telegram": "Telegram", "discord": "Discord", "slack": "Slack"}
BAD_CODE = (
    "That link code is not valid: codes work once, for 15 minutes. Ask an admin of the "
    "other chat for a new one with /room link."
)
LINK_ADMINS = "Only an admin of this chat can link it to another chat's room."


def platform_name(platform: str) -> str:
    return PLATFORM_NAMES.get(platform, platform.capitalize())


def chat_label(chat: Room) -> str:
    """How a chat is shown to the other chats: its platform and title, never its id."""
    return f"{platform_name(chat.platform)} · {chat.title or 'untitled chat'}"


def _hash(code: str) -> str:
    cleaned = "".join(code.split()).replace("-", "").upper()
    return hashlib.sha256(cleaned.encode()).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


async def chats(session: AsyncSession, room: Room) -> list[Room]:
    """Every chat of a room: the room's own chat first, then the chats that joined it."""
    return [room, *(await linked_chat_rooms(session, [room.id])).get(room.id, [])]


async def chats_of(session: AsyncSession, rooms: list[Room]) -> dict[int, list[Room]]:
    """`chats` of many rooms in one query."""
    linked = await linked_chat_rooms(session, {r.id for r in rooms})
    return {r.id: [r, *linked.get(r.id, [])] for r in rooms}


async def is_linked(session: AsyncSession, room: Room) -> bool:
    """Whether the room has chats on more than one place (it joined, or was joined)."""
    found = await session.scalar(
        select(
            exists().where((LinkedChat.room_id == room.id) | (LinkedChat.chat_room_id == room.id))
        )
    )
    return bool(found)


async def create_code(
    session: AsyncSession, room: Room, user: User, now: datetime
) -> tuple[str, datetime]:
    """A one-time code that lets an admin of another chat join it to `room`; admins only."""
    await require_member(session, room.id, user.id)
    if not await is_room_admin(session, room.id, user.id):
        raise Forbidden("Only the room's admins can link other chats to it.")
    code = _new_code()
    expires = now + CODE_LIFETIME
    session.add(
        RoomLinkCode(code_hash=_hash(code), room_id=room.id, created_by=user.id, expires_at=expires)
    )
    await session.flush()
    return code, expires


async def join(
    session: AsyncSession, chat_room: Room, user: User, code: str, now: datetime
) -> Room:
    """Join the chat whose own room is `chat_room` to the room the code was made for. The
    person must administer this chat; the code must be unused and unexpired. Returns the
    shared room."""
    await require_member(session, chat_room.id, user.id)
    if not await is_room_admin(session, chat_room.id, user.id):
        raise Forbidden(LINK_ADMINS)
    if not code.strip():
        raise BadInput("Send the code with it: /room join <code> (from /room link elsewhere).")
    found = await session.scalar(
        select(RoomLinkCode).where(RoomLinkCode.code_hash == _hash(code)).with_for_update()
    )
    if found is None or found.used_at is not None or found.expires_at <= now:
        raise BadInput(BAD_CODE)
    if await session.get(LinkedChat, chat_room.id) is not None:
        raise BadInput("This chat is already linked to a room. Send /room unlink first.")
    if found.room_id == chat_room.id:
        raise BadInput("That code is for this chat's own room: use it in another chat.")
    if await session.scalar(select(exists().where(LinkedChat.room_id == chat_room.id))):
        raise BadInput(
            "Other chats have joined this chat's room, so it cannot join another. "
            "Use /room link here instead, and /room join in the other chat."
        )
    shared = await session.get(Room, found.room_id)
    assert shared is not None  # the code cascades with its room
    found.used_at = now
    session.add(LinkedChat(chat_room_id=chat_room.id, room_id=shared.id, linked_by=user.id))
    # Everyone the platform has shown in this chat is a member of the shared room.
    await session.execute(
        insert(Membership)
        .from_select(
            ["room_id", "user_id", "role"],
            select(literal(shared.id), Membership.user_id, Membership.role).where(
                Membership.room_id == chat_room.id
            ),
        )
        .on_conflict_do_nothing(index_elements=["room_id", "user_id"])
    )
    await session.flush()
    await tell_chats(
        session,
        shared,
        f"🔗 {escape(chat_label(chat_room))} joined this room: focus sessions, room tasks, "
        "decks, documents and the leaderboard are shared.",
        key=f"room-link:{chat_room.id}:{now.isoformat()}",
        now=now,
        except_chat_id=chat_room.id,
    )
    return shared


async def unlink(
    session: AsyncSession, room: Room, chat_room: Room, user: User, now: datetime
) -> int:
    """`/room unlink`: in a chat that joined, that chat leaves the room (its own admins
    or the room's may do it); in the room's own chat, every joined chat leaves (the room's
    admins). Returns how many chats left."""
    await require_member(session, room.id, user.id)
    allowed = await is_room_admin(session, room.id, user.id)
    if not allowed and chat_room.id != room.id:
        allowed = await is_room_admin(session, chat_room.id, user.id)
    if not allowed:
        raise Forbidden("Only the room's admins can unlink chats.")
    if chat_room.id != room.id:
        return await _detach(session, room, [chat_room], now, reason="was unlinked", told=True)
    joined = (await linked_chat_rooms(session, [room.id])).get(room.id, [])
    if not joined:
        raise BadInput("This chat is not linked to any other. /room link makes a code for one.")
    return await _detach(session, room, joined, now, reason="was unlinked", told=True)


async def _detach(
    session: AsyncSession,
    room: Room,
    leaving: list[Room],
    now: datetime,
    *,
    reason: str,
    told: bool = False,
    tell_room: bool = True,
) -> int:
    """The `leaving` chats go back to rooms of their own. People known only through them
    stop being members of the shared room (someone who speaks in a remaining chat becomes
    a member again at once). `told`: the leaving chats hear that they are on their own."""
    ids = [c.id for c in leaving]
    staying = [c.id for c in await chats(session, room) if c.id not in ids]
    await session.execute(
        delete(LinkedChat).where(LinkedChat.chat_room_id.in_(ids), LinkedChat.room_id == room.id)
    )
    elsewhere = select(Membership.user_id).where(
        Membership.room_id.in_([i for i in staying if i != room.id])
    )
    await session.execute(
        delete(Membership).where(
            Membership.room_id == room.id,
            Membership.user_id.in_(select(Membership.user_id).where(Membership.room_id.in_(ids))),
            Membership.user_id.not_in(elsewhere),
        )
    )
    names = ", ".join(escape(chat_label(c)) for c in leaving)
    for chat in leaving if told else []:
        await tell_chats(
            session,
            chat,
            "This chat is no longer linked: it is a room of its own again.",
            key=f"room-unlinked:{chat.id}:{now.isoformat()}",
            now=now,
        )
    if not tell_room:
        return len(ids)
    await tell_chats(
        session,
        room,
        f"🔗 {names} {reason} and no longer shares this room.",
        key=f"room-unlink:{room.id}:{'-'.join(map(str, ids))}:{now.isoformat()}",
        now=now,
    )
    return len(ids)


async def chat_refused_bot(
    session: AsyncSession, platform: str, chat_id: str, now: datetime
) -> int:
    """The platform says this chat removed the bot (kicked, no access): a chat that joined
    a room is unlinked, and the room's other chats are told; when the room's own chat
    removed it, every joined chat goes back to a room of its own. Returns chats unlinked."""
    own = list(
        await session.scalars(
            select(Room).where(
                Room.platform == platform,
                (Room.external_id == chat_id) | Room.external_id.startswith(f"{chat_id}/"),
            )
        )
    )
    unlinked = 0
    for chat in own:
        link = await session.get(LinkedChat, chat.id)
        if link is not None:
            shared = await session.get(Room, link.room_id)
            assert shared is not None
            unlinked += await _detach(session, shared, [chat], now, reason="removed Teddy")
            continue
        joined = (await linked_chat_rooms(session, [chat.id])).get(chat.id, [])
        if joined:
            unlinked += await _detach(
                session, chat, joined, now, reason="removed Teddy", told=True, tell_room=False
            )
    return unlinked


@dataclass(frozen=True)
class LinkedChats:
    room_title: str
    chats: list[str]
    relay: bool


async def linked_chats(session: AsyncSession, room: Room, user: User) -> LinkedChats:
    """What `/room` shows of a linked room: each chat's platform and title."""
    await require_member(session, room.id, user.id)
    relay = (await room_settings(session, room.id)).relay
    return LinkedChats(room.title, [chat_label(c) for c in await chats(session, room)], relay)


async def set_relay(session: AsyncSession, room: Room, user: User, on: bool) -> None:
    await require_member(session, room.id, user.id)
    if not await is_room_admin(session, room.id, user.id):
        raise Forbidden("Only the room's admins can turn the relay on or off.")
    if on and not await is_linked(session, room):
        raise BadInput("This chat is not linked to any other. /room link makes a code for one.")
    (await room_settings(session, room.id)).relay = on


async def tell_chats(
    session: AsyncSession,
    room: Room,
    text: str,
    *,
    key: str,
    now: datetime,
    except_chat_id: int | None = None,
    kind: str = "room",
) -> int:
    """A message to every chat of the room (through the outbox, at each platform's pace)."""
    notice = Notice(kind, text, key, now, room=room, except_chat_id=except_chat_id)
    return await queue_notices(session, [notice])


RELAY_MAX_CHARS = 1000


async def relay(
    session: AsyncSession,
    room: Room,
    chat_room: Room,
    user: User,
    text: str,
    *,
    key: str,
    now: datetime,
) -> int:
    """`/say <text>`: shown in the room's other chats with the speaker's display name and
    platform, when the room's admins turned the relay on. Returns the chats it goes to."""
    await require_member(session, room.id, user.id)
    if not text.strip():
        raise BadInput("Say what? /say <text> shows your text in the other linked chats.")
    if len(text) > RELAY_MAX_CHARS:
        raise BadInput(f"That is too long to relay (the limit is {RELAY_MAX_CHARS} characters).")
    if not await is_linked(session, room):
        raise BadInput("This chat is not linked to any other. /room link makes a code for one.")
    if not (await room_settings(session, room.id)).relay:
        raise BadInput("The relay is off in this room. An admin can turn it on: /room relay on")
    said = (
        f"💬 **{escape(user.display_name)}** ({platform_name(chat_room.platform)}): {escape(text)}"
    )
    return await tell_chats(
        session, room, said, key=key, now=now, except_chat_id=chat_room.id, kind="relay"
    )
