"""Reading a room: the focus session's live view, the room's status and its leaderboard."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadInput, Forbidden
from core.identity.models import LinkedChat, Membership, Room, User
from core.rooms.focus import running_focus
from core.rooms.membership import require_member, room_zone
from core.rooms.models import FocusParticipant, FocusSession, StudySession
from core.rooms.study import whole_minutes


@dataclass
class FocusView:
    """Everything the live message shows: a group session's room, or a solo one's owner."""

    focus: FocusSession
    room: Room | None
    participants: list[tuple[FocusParticipant, str]] = field(default_factory=list)
    owner: User | None = None
    # A solo break's suggestion (core.insights.patterns), set by the sweep.
    advice: str | None = None

    @property
    def present(self) -> list[str]:
        if self.focus.phase == "done":
            return []
        return [name for p, name in self.participants if p.joined_at is not None]

    @property
    def minutes(self) -> list[tuple[str, int]]:
        """(name, focus minutes) for everyone who took part, for the summary."""
        return [(name, whole_minutes(p.focus_seconds)) for p, name in self.participants]


async def focus_views(
    session: AsyncSession, focuses: Sequence[FocusSession], known: Sequence[Room] = ()
) -> list[FocusView]:
    """Views of many sessions in two queries (the sweep handles hundreds at a time); one
    when the caller already has their rooms (`known`)."""
    if not focuses:
        return []
    rooms = {r.id: r for r in known}
    missing = {f.room_id for f in focuses if f.room_id is not None} - rooms.keys()
    if missing:
        rooms |= {r.id: r for r in await session.scalars(select(Room).where(Room.id.in_(missing)))}
    owner_ids = {f.user_id for f in focuses if f.user_id is not None}
    owners: dict[int, User] = {}
    if owner_ids:
        owners = {
            u.id: u for u in await session.scalars(select(User).where(User.id.in_(owner_ids)))
        }
    views = {
        f.id: FocusView(
            f,
            rooms[f.room_id] if f.room_id is not None else None,
            owner=owners.get(f.user_id) if f.user_id is not None else None,
        )
        for f in focuses
    }
    rows = await session.execute(
        select(FocusParticipant, User.display_name)
        .join(User, User.id == FocusParticipant.user_id)
        .where(FocusParticipant.focus_session_id.in_(views))
        .order_by(FocusParticipant.id)
    )
    for participant, name in rows.all():
        views[participant.focus_session_id].participants.append((participant, name))
    return [views[f.id] for f in focuses]


async def focus_view(
    session: AsyncSession, focus: FocusSession, room: Room | None = None
) -> FocusView:
    return (await focus_views(session, [focus], [room] if room is not None else []))[0]


@dataclass(frozen=True)
class RoomStatus:
    room: Room
    members: list[str]
    today_minutes: int
    running: FocusView | None
    # Chats that joined this room (`/room join`): a linked room when above zero.
    joined_chats: int = 0


async def room_status(session: AsyncSession, room: Room, user: User, now: datetime) -> RoomStatus:
    # The member list doubles as the membership check (one query instead of two).
    rows = (
        await session.execute(
            select(User.id, User.display_name)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.room_id == room.id)
            .order_by(Membership.id)
        )
    ).all()
    if all(user_id != user.id for user_id, _ in rows):
        raise Forbidden("Only members of this room can see that.")
    members = [name for _, name in rows]
    local = now.astimezone(room_zone(room))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    joined = select(func.count()).where(LinkedChat.room_id == room.id).scalar_subquery()
    today, joined_chats = (
        await session.execute(
            select(func.coalesce(func.sum(StudySession.minutes), 0), joined).where(
                StudySession.room_id == room.id,
                StudySession.ended_at.is_not(None),
                StudySession.started_at >= midnight,
            )
        )
    ).one()
    running = await running_focus(session, room.id)
    view = await focus_view(session, running, room) if running is not None else None
    return RoomStatus(room, members, int(today or 0), view, int(joined_chats or 0))


def period_start(period: str, now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        return local - timedelta(days=local.weekday())
    if period == "month":
        return local.replace(day=1)
    raise BadInput("Use /leaderboard week or /leaderboard month.")


async def leaderboard(
    session: AsyncSession, room: Room, user: User, period: str, now: datetime
) -> list[tuple[str, int]]:
    """Current members ranked by study minutes in this room (focus sessions and study
    voice time) since the start of this week (Monday) or month, in the room's zone."""
    await require_member(session, room.id, user.id)
    return (await leaderboards(session, [room], user, period, now))[room.id]


async def leaderboards(
    session: AsyncSession, rooms: Sequence[Room], user: User, period: str, now: datetime
) -> dict[int, list[tuple[str, int]]]:
    """`leaderboard` of each of `rooms` in one query (each from its own zone's week or
    month start); a room `user` is not a member of ranks nobody."""
    if not rooms:
        return {}
    starts = {
        room.id: literal(period_start(period, now, room_zone(room)), DateTime(timezone=True))
        for room in rooms
    }
    since = case(starts, value=Membership.room_id)
    mine = select(Membership.room_id).where(Membership.user_id == user.id)
    total = func.coalesce(func.sum(StudySession.minutes), 0).label("total")
    rows = await session.execute(
        select(Membership.room_id, User.display_name, total)
        .select_from(User)
        .join(Membership, Membership.user_id == User.id)
        .join(
            StudySession,
            (StudySession.user_id == User.id)
            & (StudySession.room_id == Membership.room_id)
            & (StudySession.started_at >= since)
            & StudySession.ended_at.is_not(None),
        )
        .where(Membership.room_id.in_(list(starts)), Membership.room_id.in_(mine))
        .group_by(Membership.room_id, User.id, User.display_name)
        .having(total > 0)
        .order_by(Membership.room_id, total.desc(), User.display_name)
    )
    ranked: dict[int, list[tuple[str, int]]] = {room.id: [] for room in rooms}
    for room_id, name, minutes in rows.all():
        ranked[room_id].append((name, int(minutes)))
    return ranked
