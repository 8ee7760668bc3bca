"""Solo focus sessions: a pomodoro in a person's direct chat. The same timer as a group
session (one `FocusSession` row with the person as its only participant, advanced by the
same sweep), with Pause/Resume instead of Join/Leave. Its minutes become a study session
like a group session's, so they count in study time and the streak."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import BadInput
from core.identity.models import User
from core.rooms.focus import (
    PAUSE_LIMIT,
    bank_focus_minutes,
    catch_up,
    finish,
    insert_focus,
    insert_study_rows,
    leave_stint,
    live_focus_for_update,
    next_update,
    participant_of,
    participants_of,
)
from core.rooms.models import FocusSession

ALREADY_RUNNING = (
    "You already have a focus session running: press Stop on it (or send /focus stop) "
    "before starting another."
)
ENDED = "That focus session has ended. Start a new one with /focus."


async def running_solo(session: AsyncSession, user: User) -> FocusSession | None:
    return await session.scalar(
        select(FocusSession)
        .where(FocusSession.user_id == user.id, FocusSession.phase != "done")
        .with_for_update()
    )


async def start_solo(
    session: AsyncSession,
    user: User,
    *,
    focus_minutes: int,
    break_minutes: int,
    now: datetime,
    subject: str | None = None,
) -> FocusSession:
    running = await running_solo(session, user)
    if running is not None:
        await catch_up(session, running, now)
        if running.phase != "done":
            raise BadInput(ALREADY_RUNNING)
    return await insert_focus(
        session,
        user,
        room_id=None,
        subject=subject,
        focus_minutes=focus_minutes,
        break_minutes=break_minutes,
        now=now,
        already_running=ALREADY_RUNNING,
    )


async def _mine_for_update(
    session: AsyncSession, user: User, focus_id: int, now: datetime
) -> FocusSession:
    return await live_focus_for_update(
        session,
        FocusSession.id == focus_id,
        FocusSession.user_id == user.id,
        now=now,
        missing="That focus session is not one of yours.",
        ended=ENDED,
    )


async def pause_solo(
    session: AsyncSession, user: User, focus_id: int, now: datetime
) -> FocusSession:
    """The timer stands still and no focus time is counted until Resume."""
    focus = await _mine_for_update(session, user, focus_id, now)
    if focus.paused_at is not None:
        return focus
    participant = await participant_of(session, focus.id, user.id)
    if participant is not None:
        leave_stint(focus, participant, now)
    focus.paused_at = now
    focus.next_update_at = now + PAUSE_LIMIT
    return focus


async def resume_solo(
    session: AsyncSession, user: User, focus_id: int, now: datetime
) -> FocusSession:
    """The phase ends as much later as the pause lasted."""
    focus = await _mine_for_update(session, user, focus_id, now)
    if focus.paused_at is None:
        return focus
    focus.phase_ends_at += now - focus.paused_at
    focus.paused_at = None
    participant = await participant_of(session, focus.id, user.id)
    if participant is not None:
        participant.joined_at = now
    focus.next_update_at = next_update(focus.phase_ends_at, now)
    return focus


async def stop_solo(
    session: AsyncSession, user: User, focus_id: int | None, now: datetime
) -> FocusSession:
    """Stop the given session (or the running one, for `/focus stop`); the focus time so
    far is logged."""
    if focus_id is None:
        running = await running_solo(session, user)
        if running is None:
            raise BadInput("You have no focus session running. Start one with /focus 25.")
        focus_id = running.id
    focus = await _mine_for_update(session, user, focus_id, now)
    if focus.phase == "focus":
        participants = await participants_of(session, focus.id)
        await insert_study_rows(session, bank_focus_minutes(focus, participants, now))
    finish(focus, now, stopped=True)
    return focus
