"""Study rooms: membership events and roles, group focus sessions (timers persisted in
the database and advanced by the `rooms.sweep_focus` job), room status and leaderboards.

Every function that shows or changes a room's things checks that the acting user is a
member of that room."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadInput, Forbidden, NotFound
from core.identity.models import Membership, Room, User
from core.identity.service import is_member
from core.rooms.models import FocusParticipant, FocusSession, RoomSettings, StudySession
from core.rooms.study import whole_minutes

DEFAULT_FOCUS_MINUTES = 25
DEFAULT_BREAK_MINUTES = 5
MAX_FOCUS_MINUTES = 180
MAX_BREAK_MINUTES = 60
TICK = timedelta(minutes=1)  # the live message's countdown moves once a minute
# A session left paused this long is over: it ends (stopped) when the pause began.
PAUSE_LIMIT = timedelta(hours=2)
ALREADY_RUNNING = "A focus session is already running here: press Join to take part."

FOCUS_USAGE = (
    "Start a focus session with `/focus [minutes] [break] [#subject]`, e.g. /focus 25 5 "
    f"(focus 1–{MAX_FOCUS_MINUTES} minutes, break 0–{MAX_BREAK_MINUTES})."
)


# Membership and roles ----------------------------------------------------------------

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


async def member_left(session: AsyncSession, *, room_id: int, user_id: int, at: datetime) -> bool:
    """The person left the room (or was removed): they leave a running focus session
    (their minutes so far are kept) and lose access to the room's things."""
    running = await _running_for_update(session, room_id)
    if running is not None:
        await catch_up(session, running, at)
        participant = await _participant(session, running.id, user_id)
        if participant is not None and running.phase != "done":
            _leave(running, participant, at)
    result = await session.execute(
        delete(Membership).where(Membership.room_id == room_id, Membership.user_id == user_id)
    )
    return bool(getattr(result, "rowcount", 0))


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


# Focus sessions ----------------------------------------------------------------------


def parse_focus_args(args: str) -> tuple[int, int]:
    """`"50 10"` -> (50, 10); defaults 25 and 5."""
    words = args.split()
    if len(words) > 2:
        raise BadInput(FOCUS_USAGE)
    numbers: list[int] = []
    for word in words:
        cleaned = word.lower().removesuffix("min").removesuffix("m")
        if not cleaned.isdigit():
            raise BadInput(f"“{word}” is not a number of minutes. {FOCUS_USAGE}")
        numbers.append(int(cleaned))
    focus = numbers[0] if numbers else DEFAULT_FOCUS_MINUTES
    pause = numbers[1] if len(numbers) > 1 else DEFAULT_BREAK_MINUTES
    if not 1 <= focus <= MAX_FOCUS_MINUTES:
        raise BadInput(f"A focus phase lasts 1 to {MAX_FOCUS_MINUTES} minutes. {FOCUS_USAGE}")
    if not 0 <= pause <= MAX_BREAK_MINUTES:
        raise BadInput(f"A break lasts 0 to {MAX_BREAK_MINUTES} minutes. {FOCUS_USAGE}")
    return focus, pause


def live_id(focus: FocusSession) -> str:
    return f"focus-{focus.id}"


async def start_focus(
    session: AsyncSession,
    room: Room,
    user: User,
    *,
    focus_minutes: int,
    break_minutes: int,
    now: datetime,
    subject: str | None = None,
) -> FocusSession:
    await require_member(session, room.id, user.id)
    running = await _running_for_update(session, room.id)
    if running is not None:
        await catch_up(session, running, now)
        if running.phase != "done":
            raise BadInput(ALREADY_RUNNING)
    return await insert_focus(
        session,
        user,
        room_id=room.id,
        subject=subject,
        focus_minutes=focus_minutes,
        break_minutes=break_minutes,
        now=now,
    )


async def insert_focus(
    session: AsyncSession,
    user: User,
    *,
    room_id: int | None,
    subject: str | None,
    focus_minutes: int,
    break_minutes: int,
    now: datetime,
    already_running: str = ALREADY_RUNNING,
) -> FocusSession:
    """A new focus session in a room (`room_id`) or alone (None, owned by `user`), its
    first phase running and `user` its first participant. A start at the same moment from
    elsewhere loses to the one-running index and is told `already_running`."""
    ends = now + timedelta(minutes=focus_minutes)
    focus = FocusSession(
        room_id=room_id,
        user_id=None if room_id is not None else user.id,
        started_by=user.id,
        subject=subject,
        focus_minutes=focus_minutes,
        break_minutes=break_minutes,
        phase="focus",
        phase_no=1,
        started_at=now,
        phase_ends_at=ends,
        next_update_at=next_update(ends, now),
    )
    try:
        async with session.begin_nested():
            session.add(focus)
            await session.flush()
    except IntegrityError:
        raise BadInput(already_running) from None
    session.add(
        FocusParticipant(
            focus_session_id=focus.id, user_id=user.id, first_joined_at=now, joined_at=now
        )
    )
    await session.flush()
    return focus


async def join_focus(
    session: AsyncSession, room: Room, user: User, focus_id: int, now: datetime
) -> FocusSession:
    focus = await _focus_in_room_for_update(session, room, user, focus_id, now)
    participant = await _participant(session, focus.id, user.id)
    if participant is None:
        session.add(
            FocusParticipant(
                focus_session_id=focus.id, user_id=user.id, first_joined_at=now, joined_at=now
            )
        )
        await session.flush()
    elif participant.joined_at is None:
        participant.joined_at = now
    return focus


async def leave_focus(
    session: AsyncSession, room: Room, user: User, focus_id: int, now: datetime
) -> FocusSession:
    focus = await _focus_in_room_for_update(session, room, user, focus_id, now)
    participant = await _participant(session, focus.id, user.id)
    if participant is None or participant.joined_at is None:
        raise BadInput("You are not in this focus session.")
    _leave(focus, participant, now)
    return focus


async def stop_focus(
    session: AsyncSession, room: Room, user: User, focus_id: int, now: datetime
) -> FocusSession:
    """Any participant or room admin may stop the session; minutes so far are logged."""
    focus = await _focus_in_room_for_update(session, room, user, focus_id, now)
    participant = await _participant(session, focus.id, user.id)
    if participant is None and not await is_room_admin(session, room.id, user.id):
        raise Forbidden("Only the session's participants or the room's admins can stop it.")
    if focus.phase == "focus":
        participants = await _participants(session, focus.id)
        await insert_study_rows(session, bank_focus_minutes(focus, participants, now))
    _finish(focus, now, stopped=True)
    return focus


async def running_focus(session: AsyncSession, room_id: int) -> FocusSession | None:
    return await session.scalar(
        select(FocusSession).where(FocusSession.room_id == room_id, FocusSession.phase != "done")
    )


async def catch_up(session: AsyncSession, focus: FocusSession, now: datetime) -> bool:
    """Advance every phase whose end has passed, at its scheduled end (so a late sweep or a
    restarted process counts exactly the planned minutes). True when the phase changed."""
    changed, rows = advance_phases(focus, await _participants(session, focus.id), now)
    await insert_study_rows(session, rows)
    return changed


def advance_phases(
    focus: FocusSession, participants: Sequence[FocusParticipant], now: datetime
) -> tuple[bool, list[dict[str, Any]]]:
    """`catch_up` without I/O: changes the objects and returns the study-session rows the
    focus phase produced (for `insert_study_rows`)."""
    if focus.paused_at is not None:
        return _expire_pause(focus, participants, now)
    changed = False
    rows: list[dict[str, Any]] = []
    while focus.phase != "done" and focus.phase_ends_at <= now:
        end = focus.phase_ends_at
        if focus.phase == "focus":
            rows += bank_focus_minutes(focus, participants, end)
            if focus.break_minutes > 0:
                focus.phase = "break"
                focus.phase_no += 1
                focus.phase_ends_at = end + timedelta(minutes=focus.break_minutes)
            else:
                _finish(focus, end, stopped=False)
        else:
            _finish(focus, end, stopped=False)
        changed = True
    if focus.phase != "done":
        focus.next_update_at = next_update(focus.phase_ends_at, now)
    return changed, rows


def _expire_pause(
    focus: FocusSession, participants: Sequence[FocusParticipant], now: datetime
) -> tuple[bool, list[dict[str, Any]]]:
    """A paused timer stands still; after PAUSE_LIMIT the session ends when the pause began
    (the focus time before it was banked at the pause)."""
    assert focus.paused_at is not None
    if now < focus.paused_at + PAUSE_LIMIT:
        return False, []
    end = focus.paused_at
    rows = bank_focus_minutes(focus, participants, end) if focus.phase == "focus" else []
    _finish(focus, end, stopped=True)
    return True, rows


def next_update(phase_ends_at: datetime, now: datetime) -> datetime:
    """When the countdown next shows a different number of minutes (or the phase ends)."""
    left = minutes_left(phase_ends_at, now)
    return phase_ends_at - TICK * max(left - 1, 0)


def minutes_left(phase_ends_at: datetime, now: datetime) -> int:
    return max(math.ceil((phase_ends_at - now).total_seconds() / 60), 0)


def _leave(focus: FocusSession, participant: FocusParticipant, at: datetime) -> None:
    if participant.joined_at is None:
        return
    if focus.phase == "focus":
        participant.focus_seconds += _seconds(participant.joined_at, at)
    participant.joined_at = None
    participant.last_left_at = at


def _seconds(start: datetime, end: datetime) -> int:
    return max(int((end - start).total_seconds()), 0)


def _finish(focus: FocusSession, at: datetime, *, stopped: bool) -> None:
    focus.phase = "done"
    focus.phase_no += 1
    focus.ended_at = at
    focus.stopped = stopped
    focus.phase_ends_at = at
    focus.next_update_at = at


def bank_focus_minutes(
    focus: FocusSession, participants: Sequence[FocusParticipant], end: datetime
) -> list[dict[str, Any]]:
    """Bank everyone's focus time up to `end`; one study-session row per participant."""
    rows: list[dict[str, Any]] = []
    for participant in participants:
        last = participant.last_left_at
        if participant.joined_at is not None:
            participant.focus_seconds += _seconds(participant.joined_at, end)
            participant.joined_at = end
            last = end
        minutes = whole_minutes(participant.focus_seconds)
        if minutes > 0:
            rows.append(
                {
                    "user_id": participant.user_id,
                    "room_id": focus.room_id,
                    "focus_session_id": focus.id,
                    "source": "focus",
                    "subject": focus.subject,
                    "started_at": participant.first_joined_at,
                    "ended_at": last or end,
                    "last_seen_at": last or end,
                    "minutes": minutes,
                }
            )
    return rows


async def insert_study_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """The unique (focus_session_id, user_id) makes a repeated run write nothing."""
    if rows:
        await session.execute(
            insert(StudySession).on_conflict_do_nothing(
                index_elements=["focus_session_id", "user_id"]
            ),
            rows,
        )


async def _participants(session: AsyncSession, focus_id: int) -> list[FocusParticipant]:
    return list(
        await session.scalars(
            select(FocusParticipant)
            .where(FocusParticipant.focus_session_id == focus_id)
            .order_by(FocusParticipant.id)
        )
    )


async def _participant(
    session: AsyncSession, focus_id: int, user_id: int
) -> FocusParticipant | None:
    return await session.scalar(
        select(FocusParticipant).where(
            FocusParticipant.focus_session_id == focus_id, FocusParticipant.user_id == user_id
        )
    )


async def _running_for_update(session: AsyncSession, room_id: int) -> FocusSession | None:
    return await session.scalar(
        select(FocusSession)
        .where(FocusSession.room_id == room_id, FocusSession.phase != "done")
        .with_for_update()
    )


async def _focus_in_room_for_update(
    session: AsyncSession, room: Room, user: User, focus_id: int, now: datetime
) -> FocusSession:
    await require_member(session, room.id, user.id)
    focus = await session.scalar(
        select(FocusSession)
        .where(FocusSession.id == focus_id, FocusSession.room_id == room.id)
        .with_for_update()
    )
    if focus is None:
        raise NotFound("That focus session does not exist in this room.")
    await catch_up(session, focus, now)
    if focus.phase == "done":
        raise BadInput("That focus session has ended. Start a new one with /focus.")
    return focus


# Reading: the live view, room status, leaderboard -----------------------------------


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
    today = await session.scalar(
        select(func.coalesce(func.sum(StudySession.minutes), 0)).where(
            StudySession.room_id == room.id,
            StudySession.ended_at.is_not(None),
            StudySession.started_at >= midnight,
        )
    )
    running = await running_focus(session, room.id)
    view = await focus_view(session, running, room) if running is not None else None
    return RoomStatus(room, members, int(today or 0), view)


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
    since = period_start(period, now, room_zone(room))
    total = func.coalesce(func.sum(StudySession.minutes), 0).label("total")
    rows = await session.execute(
        select(User.display_name, total)
        .join(Membership, Membership.user_id == User.id)
        .join(
            StudySession,
            (StudySession.user_id == User.id)
            & (StudySession.room_id == room.id)
            & (StudySession.started_at >= since)
            & StudySession.ended_at.is_not(None),
        )
        .where(Membership.room_id == room.id)
        .group_by(User.id, User.display_name)
        .having(total > 0)
        .order_by(total.desc(), User.display_name)
    )
    return [(name, int(minutes)) for name, minutes in rows.all()]
