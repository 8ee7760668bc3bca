"""Room membership and roles: who is in a room, who administers it, and the room's
settings. Every function that shows or changes a room's things checks membership here."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Forbidden, NotFound
from core.identity.models import Membership, Room, User
from core.identity.service import is_member
from core.rooms.models import RoomSettings

# Membership.role: the platform named this person an admin of the room, or said they are
# not one, or (`member`) has said nothing, as on the console.
ADMIN = "admin"
NOT_ADMIN = "regular"
MEMBER = "member"


async def member_joined(
    session: AsyncSession, *, room_id: int, user_id: int, is_admin: bool | None = None
) -> None:
    """The platform says this person is in the room (joined, or listed by the platform).
    `is_admin`, when the adapter knows it, sets the room role; None leaves it as it is."""
    await session.execute(
        insert(Membership)
        .values(room_id=room_id, user_id=user_id, role=MEMBER)
        .on_conflict_do_nothing(index_elements=["room_id", "user_id"])
    )
    if is_admin is not None:
        await set_admin(session, room_id=room_id, user_id=user_id, is_admin=is_admin)


async def set_admin(session: AsyncSession, *, room_id: int, user_id: int, is_admin: bool) -> None:
    """Adapters pass what the platform says (Telegram chat administrators, Discord's
    Administrator / Manage Server / Manage Channels permissions, Slack channel managers)."""
    membership = await session.scalar(
        select(Membership).where(Membership.room_id == room_id, Membership.user_id == user_id)
    )
    if membership is None:
        raise NotFound("That person is not a member of this room.")
    membership.role = ADMIN if is_admin else NOT_ADMIN


async def is_room_admin(session: AsyncSession, room_id: int, user_id: int) -> bool:
    """What the platform said about this person; where it said nothing (the console), the
    room's first member is its admin as long as the platform has named no other."""
    rows = (
        await session.execute(
            select(Membership.user_id, Membership.role)
            .where(Membership.room_id == room_id)
            .order_by(Membership.id)
        )
    ).all()
    mine = next((role for uid, role in rows if uid == user_id), None)
    if mine in (ADMIN, NOT_ADMIN):
        return mine == ADMIN
    if any(role == ADMIN for _, role in rows):
        return False
    return bool(rows) and rows[0][0] == user_id


async def require_member(session: AsyncSession, room_id: int, user_id: int) -> None:
    if not await is_member(session, room_id, user_id):
        raise Forbidden("Only members of this room can see that.")


async def room_settings(session: AsyncSession, room_id: int) -> RoomSettings:
    await session.execute(insert(RoomSettings).values(room_id=room_id).on_conflict_do_nothing())
    found = await session.get(RoomSettings, room_id)
    assert found is not None
    return found


async def configure(
    session: AsyncSession,
    room: Room,
    user: User,
    *,
    timezone: str | None = None,
    study_voice: bool | None = None,
) -> None:
    """Room settings; admins only."""
    await require_member(session, room.id, user.id)
    if not await is_room_admin(session, room.id, user.id):
        raise Forbidden("Only the room's admins can change its settings.")
    if timezone is not None:
        room.timezone = timezone
    if study_voice is not None:
        (await room_settings(session, room.id)).study_voice = study_voice


def room_zone(room: Room) -> ZoneInfo:
    try:
        return ZoneInfo(room.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")
