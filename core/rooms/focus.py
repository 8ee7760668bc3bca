"""Group focus sessions: timers persisted in the database and advanced by the
`rooms.sweep_focus` job; joining, leaving and stopping; the minutes they bank as study
sessions. Solo sessions (core.rooms.solo) share the timer functions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from core.analytics.rollup import record
from core.db import rows_affected
from core.errors import BadInput, Forbidden, NotFound
from core.identity.models import Membership, Room, User
from core.rooms.membership import is_room_admin, require_member
from core.rooms.models import FocusParticipant, FocusSession, StudySession
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
    participant = await participant_of(session, focus.id, user.id)
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
    participant = await participant_of(session, focus.id, user.id)
    if participant is None or participant.joined_at is None:
        raise BadInput("You are not in this focus session.")
    leave_stint(focus, participant, now)
    return focus


async def stop_focus(
    session: AsyncSession, room: Room, user: User, focus_id: int, now: datetime
) -> FocusSession:
    """Any participant or room admin may stop the session; minutes so far are logged."""
    focus = await _focus_in_room_for_update(session, room, user, focus_id, now)
    participant = await participant_of(session, focus.id, user.id)
    if participant is None and not await is_room_admin(session, room.id, user.id):
        raise Forbidden("Only the session's participants or the room's admins can stop it.")
    if focus.phase == "focus":
        participants = await participants_of(session, focus.id)
        await insert_study_rows(session, bank_focus_minutes(focus, participants, now))
    finish(focus, now, stopped=True)
    return focus


async def running_focus(session: AsyncSession, room_id: int) -> FocusSession | None:
    return await session.scalar(
        select(FocusSession).where(FocusSession.room_id == room_id, FocusSession.phase != "done")
    )


async def catch_up(session: AsyncSession, focus: FocusSession, now: datetime) -> bool:
    """Advance every phase whose end has passed, at its scheduled end (so a late sweep or a
    restarted process counts exactly the planned minutes). True when the phase changed."""
    changed, rows = advance_phases(focus, await participants_of(session, focus.id), now)
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
                finish(focus, end, stopped=False)
        else:
            finish(focus, end, stopped=False)
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
    finish(focus, end, stopped=True)
    return True, rows


def next_update(phase_ends_at: datetime, now: datetime) -> datetime:
    """When the countdown next shows a different number of minutes (or the phase ends)."""
    left = minutes_left(phase_ends_at, now)
    return phase_ends_at - TICK * max(left - 1, 0)


def minutes_left(phase_ends_at: datetime, now: datetime) -> int:
    return max(math.ceil((phase_ends_at - now).total_seconds() / 60), 0)


def leave_stint(focus: FocusSession, participant: FocusParticipant, at: datetime) -> None:
    if participant.joined_at is None:
        return
    if focus.phase == "focus":
        participant.focus_seconds += _seconds(participant.joined_at, at)
    participant.joined_at = None
    participant.last_left_at = at


def _seconds(start: datetime, end: datetime) -> int:
    return max(int((end - start).total_seconds()), 0)


def finish(focus: FocusSession, at: datetime, *, stopped: bool) -> None:
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
    """The unique (focus_session_id, user_id) makes a repeated run write nothing (and
    count nothing in the stats)."""
    if not rows:
        return
    written = await session.execute(
        insert(StudySession)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["focus_session_id", "user_id"])
        .returning(StudySession.user_id, StudySession.started_at, StudySession.minutes)
    )
    for user_id, started_at, minutes in written.all():
        await record(session, user_id, started_at, study_minutes=minutes)


async def participants_of(session: AsyncSession, focus_id: int) -> list[FocusParticipant]:
    return list(
        await session.scalars(
            select(FocusParticipant)
            .where(FocusParticipant.focus_session_id == focus_id)
            .order_by(FocusParticipant.id)
        )
    )


async def participant_of(
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
    return await live_focus_for_update(
        session,
        FocusSession.id == focus_id,
        FocusSession.room_id == room.id,
        now=now,
        missing="That focus session does not exist in this room.",
        ended="That focus session has ended. Start a new one with /focus.",
    )


async def live_focus_for_update(
    session: AsyncSession, *where: ColumnElement[bool], now: datetime, missing: str, ended: str
) -> FocusSession:
    """The focus session `where` picks, locked and caught up to `now`; refused when there is
    none (`missing`) or it has ended (`ended`)."""
    focus = await session.scalar(select(FocusSession).where(*where).with_for_update())
    if focus is None:
        raise NotFound(missing)
    await catch_up(session, focus, now)
    if focus.phase == "done":
        raise BadInput(ended)
    return focus


async def member_left(session: AsyncSession, *, room_id: int, user_id: int, at: datetime) -> bool:
    """The person left the room (or was removed): they leave a running focus session
    (their minutes so far are kept) and lose access to the room's things."""
    running = await _running_for_update(session, room_id)
    if running is not None:
        await catch_up(session, running, at)
        participant = await participant_of(session, running.id, user_id)
        if participant is not None and running.phase != "done":
            leave_stint(running, participant, at)
    result = await session.execute(
        delete(Membership).where(Membership.room_id == room_id, Membership.user_id == user_id)
    )
    return bool(rows_affected(result))
