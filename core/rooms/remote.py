"""A room seen and acted on from outside its chat (the web page): its panel for members
only, starting a focus session and Join / Leave / Stop on it, which send or update the
chat's live message (through the outbox) and every open page (through the room's pub/sub
channel)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.context import Services
from core.errors import BadInput, NotFound
from core.identity.models import Membership, Room, User
from core.outbox.service import Notice, queue_notices
from core.rooms import live, service, study_commands
from core.rooms.models import FocusSession
from core.rooms.service import FocusView, RoomStatus

Action = Callable[[AsyncSession, Room, User, int, datetime], Awaitable[FocusSession]]
ACTIONS: dict[str, tuple[Action, str]] = {
    "join": (service.join_focus, "focus.joined"),
    "leave": (service.leave_focus, "focus.left"),
    "stop": (service.stop_focus, "focus.ended"),
}


async def member_room(session: AsyncSession, user: User, room_id: int) -> Room:
    """The room, when `user` is a member; a room they are not in is NotFound, exactly like
    a missing one (so a stranger learns nothing about it)."""
    room = await session.scalar(
        select(Room)
        .join(Membership, Membership.room_id == Room.id)
        .where(Room.id == room_id, Membership.user_id == user.id)
    )
    if room is None:
        raise NotFound("That room doesn't exist, or you are not one of its members.")
    return room


@dataclass(frozen=True)
class RoomPanel:
    """What a member sees of a room: members, today's minutes, the running session and
    this week's leaderboard."""

    status: RoomStatus
    leaderboard: list[tuple[str, int]]
    user_in_session: bool

    @property
    def running(self) -> FocusView | None:
        return self.status.running


async def room_panel(session: AsyncSession, user: User, room_id: int, now: datetime) -> RoomPanel:
    room = await member_room(session, user, room_id)
    status = await service.room_status(session, room, user, now)
    # member_room checked the membership; leaderboards ranks only the user's rooms too.
    board = (await service.leaderboards(session, [room], user, "week", now))[room.id]
    running = status.running
    joined = running is not None and any(
        p.user_id == user.id and p.joined_at is not None for p, _ in running.participants
    )
    return RoomPanel(status, board, joined)


async def start_focus(
    session: AsyncSession,
    services: Services,
    user: User,
    room_id: int,
    args: str,
    now: datetime,
) -> FocusSession:
    """Start the room's focus session as `user`, as `/focus <args>` in its group chat
    does (`args` in the chat's syntax: `[minutes] [break] [#subject]`, the same defaults,
    bounds and messages); the live message goes to the room's chats through the outbox."""
    room = await member_room(session, user, room_id)
    minutes, pause, subject = study_commands.parse_focus(args)
    focus = await service.start_focus(
        session,
        room,
        user,
        focus_minutes=minutes,
        break_minutes=pause,
        now=now,
        subject=subject,
    )
    await _announce(session, services, room, user, focus, "start", "focus.started", now)
    return focus


async def act_on_focus(
    session: AsyncSession,
    services: Services,
    user: User,
    room_id: int,
    focus_id: int,
    action: str,
    now: datetime,
) -> FocusSession:
    """Join, leave or stop the room's focus session as `user`, under the chat's rules."""
    if action not in ACTIONS:
        raise BadInput("Join, Leave or Stop.")
    room = await member_room(session, user, room_id)
    run, kind = ACTIONS[action]
    focus = await run(session, room, user, focus_id, now)
    await _announce(session, services, room, user, focus, action, kind, now)
    return focus


async def _announce(
    session: AsyncSession,
    services: Services,
    room: Room,
    user: User,
    focus: FocusSession,
    action: str,
    kind: str,
    now: datetime,
) -> None:
    """The change in the chat's live message (sent, or edited, through the outbox) and on
    every open room page (the room's pub/sub channel, once committed)."""
    await session.flush()
    view = await service.focus_view(session, focus, room)
    text, buttons = live.render(view, now)
    live_id = service.live_id(focus)
    notice = Notice(
        "focus",
        text,
        f"{live_id}:{action}:{user.id}:{now.isoformat()}",
        now,
        room=room,
        buttons=buttons,
        respect_quiet_hours=False,
        live_id=live_id,
    )
    await queue_notices(session, [notice])
    live.publish_after_commit(session, services, [live.event(kind, view, now)])
