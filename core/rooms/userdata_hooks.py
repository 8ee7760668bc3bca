"""What the schema alone does not say about a person's rooms data (see
core.accounts.userdata). Linking two users: one person runs one solo session at a time (a
unique index), so when both accounts run one, the kept account's goes on and the other
ends, its minutes logged. Export: the linked rooms they are in, by chat title and
platform. Deletion: what they said through the relay (`/say`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.capability import UserDataHooks
from core.identity.models import Membership, Room
from core.outbox.models import OutboxMessage
from core.rooms.focus import bank_focus_minutes, finish, insert_study_rows, participants_of
from core.rooms.linking import chat_label, chats_of
from core.rooms.models import FocusSession


async def merge_solo_focus(session: AsyncSession, source_id: int, target_id: int) -> None:
    running = FocusSession.phase != "done"
    if (
        await session.scalar(
            select(FocusSession.id).where(FocusSession.user_id == target_id, running)
        )
        is None
    ):
        return
    source = await session.scalar(
        select(FocusSession).where(FocusSession.user_id == source_id, running).with_for_update()
    )
    if source is None:
        return
    # Hooks get no clock. The sweep moves `next_update_at` to the next countdown minute
    # every minute, so the earlier of it and the phase's end is within a minute of now
    # and never past the planned focus time.
    end = source.paused_at or min(source.next_update_at, source.phase_ends_at)
    end = max(end, source.started_at)
    if source.phase == "focus":
        rows = bank_focus_minutes(source, await participants_of(session, source.id), end)
        await insert_study_rows(session, rows)
    finish(source, end, stopped=True)
    await session.flush()


async def export_linked_rooms(session: AsyncSession, user_id: int) -> dict[str, Any]:
    """The linked rooms the person is in, with the chats each spans (platform and title:
    the export never holds other chats' platform ids)."""
    rooms = list(
        await session.scalars(
            select(Room)
            .join(Membership, Membership.room_id == Room.id)
            .where(Membership.user_id == user_id)
            .order_by(Room.id)
        )
    )
    spans = await chats_of(session, rooms)
    return {
        "linked_rooms": [
            {"room": room.title, "chats": [chat_label(c) for c in spans[room.id]]}
            for room in rooms
            if len(spans[room.id]) > 1
        ]
    }


async def delete_relayed(session: AsyncSession, user_id: int) -> None:
    """What the person said through `/say` leaves the outbox with them."""
    await session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.kind == "relay", OutboxMessage.dedupe_key.startswith(f"say:{user_id}:")
        )
    )


HOOKS = UserDataHooks(merge=merge_solo_focus, export=export_linked_rooms, delete=delete_relayed)
