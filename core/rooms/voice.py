"""Voice-channel study time, as platform adapters report it: who moved from which channel
to which, and who is still there. Identities and rooms are resolved here, so an adapter
only translates its events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.messages import Conversation, Sender
from core.identity.models import Identity, LinkedChat, Room
from core.identity.service import room_for_chat, user_for_sender
from core.rooms import study


async def voice_moved(
    session: AsyncSession,
    *,
    person: Sender,
    left: Conversation | None,
    joined: Conversation | None,
    at: datetime,
    default_timezone: str = "UTC",
) -> None:
    """`person` left the voice channel `left` and/or joined `joined` at `at`."""
    user = await user_for_sender(session, person, at, default_timezone=default_timezone)
    if left is not None:
        room = await _existing_room(session, left)
        if room is not None:
            await study.voice_left(session, user_id=user.id, room_id=room.id, at=at)
    if joined is not None:
        room = await room_for_chat(session, joined, user)
        await study.voice_joined(session, user_id=user.id, room_id=room.id, at=at)


async def voice_present(
    session: AsyncSession, *, channel: Conversation, people: Sequence[Sender], at: datetime
) -> int:
    """Heartbeat: these people are in the voice channel now (so a session whose leave event
    never came is closed near the truth). Returns the sessions refreshed."""
    room = await _existing_room(session, channel)
    if room is None or not people:
        return 0
    user_ids = list(
        await session.scalars(
            select(Identity.user_id).where(
                Identity.platform == channel.platform,
                Identity.external_id.in_([p.external_id for p in people]),
            )
        )
    )
    return await study.voice_seen(session, room_id=room.id, user_ids=user_ids, at=at)


async def _existing_room(session: AsyncSession, chat: Conversation) -> Room | None:
    """The channel's room: the linked room it joined, if it did (as `room_for_chat`)."""
    own = await session.scalar(
        select(Room).where(Room.platform == chat.platform, Room.external_id == chat.external_id)
    )
    if own is None:
        return None
    link = await session.get(LinkedChat, own.id)
    return own if link is None else await session.get(Room, link.room_id)
