"""Study sessions: per-person stretches of study from group focus sessions, study voice
channels and manual logs. /stats, the dashboard and /leaderboard read them from here; the
Discord adapter reports voice-channel time through `voice_joined`/`voice_left`/`voice_seen`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.rollup import record
from core.errors import BadInput
from core.identity.models import Membership
from core.rooms.models import RoomSettings, StudySession

# A voice session with no sign of life for this long was left without a leave event
# (the adapter crashed, the gateway dropped it): it ends at the last sign of life.
VOICE_STALE_AFTER = timedelta(minutes=15)
# Nobody studies this long in one go; a session left open longer is capped here.
VOICE_MAX_LENGTH = timedelta(hours=12)
MANUAL_MAX_LENGTH = timedelta(hours=16)


def whole_minutes(seconds: float) -> int:
    """Seconds to minutes, rounding half up (a 29.5-minute stint counts as 30)."""
    return int((max(seconds, 0.0) + 30) // 60)


async def close(session: AsyncSession, study: StudySession, at: datetime) -> StudySession:
    """End the session at `at`: its minutes count in the stats from now on."""
    end = max(at, study.started_at)
    study.ended_at = end
    study.last_seen_at = end
    study.minutes = whole_minutes((end - study.started_at).total_seconds())
    await record(session, study.user_id, study.started_at, study_minutes=study.minutes)
    return study


async def is_study_voice_room(session: AsyncSession, room_id: int) -> bool:
    found = await session.scalar(
        select(RoomSettings.study_voice).where(RoomSettings.room_id == room_id)
    )
    return bool(found)


async def _open_voice(session: AsyncSession, user_id: int) -> StudySession | None:
    return await session.scalar(
        select(StudySession)
        .where(
            StudySession.user_id == user_id,
            StudySession.source == "voice",
            StudySession.ended_at.is_(None),
        )
        .order_by(StudySession.started_at.desc())
        .limit(1)
        .with_for_update()
    )


async def voice_joined(
    session: AsyncSession, *, user_id: int, room_id: int, at: datetime
) -> StudySession | None:
    """The person entered a voice channel (a room). Starts a voice study session when the
    room is marked as a study channel (`/room voice on`); None otherwise. Joining again
    while already counted only refreshes the session; moving from another channel ends
    the session there."""
    current = await _open_voice(session, user_id)
    if current is not None and current.room_id == room_id:
        current.last_seen_at = max(at, current.last_seen_at or at)
        return current
    if current is not None:
        await close(session, current, at)
    if not await is_study_voice_room(session, room_id):
        return None
    await session.execute(
        insert(Membership)
        .values(room_id=room_id, user_id=user_id, role="member")
        .on_conflict_do_nothing(index_elements=["room_id", "user_id"])
    )
    study = StudySession(
        user_id=user_id, room_id=room_id, source="voice", started_at=at, last_seen_at=at
    )
    session.add(study)
    await session.flush()
    return study


async def voice_left(
    session: AsyncSession, *, user_id: int, room_id: int, at: datetime
) -> StudySession | None:
    """The person left the voice channel: their open voice session there ends at `at`."""
    current = await _open_voice(session, user_id)
    if current is None or current.room_id != room_id:
        return None
    return await close(session, current, at)


async def voice_seen(
    session: AsyncSession, *, room_id: int, user_ids: list[int], at: datetime
) -> int:
    """Heartbeat: these people are still in the voice channel. Adapters call it every few
    minutes (well inside VOICE_STALE_AFTER) for everyone present; returns sessions touched."""
    if not user_ids:
        return 0
    rows = list(
        await session.scalars(
            select(StudySession)
            .where(
                StudySession.room_id == room_id,
                StudySession.user_id.in_(user_ids),
                StudySession.source == "voice",
                StudySession.ended_at.is_(None),
            )
            .with_for_update()
        )
    )
    for study in rows:
        study.last_seen_at = max(at, study.last_seen_at or at)
    return len(rows)


async def close_stale_voice_sessions(
    session: AsyncSession,
    now: datetime,
    *,
    stale_after: timedelta = VOICE_STALE_AFTER,
    max_length: timedelta = VOICE_MAX_LENGTH,
) -> int:
    """End voice sessions whose leave event never came: at the last sign of life when that
    is older than `stale_after`, and in any case no later than `max_length` after the
    start. Idempotent; returns how many were closed."""
    open_sessions = await session.scalars(
        select(StudySession)
        .where(
            StudySession.source == "voice",
            StudySession.ended_at.is_(None),
            (StudySession.last_seen_at < now - stale_after)
            | (StudySession.started_at < now - max_length),
        )
        .with_for_update(skip_locked=True)
    )
    closed = 0
    for study in open_sessions:
        last_seen = study.last_seen_at or study.started_at
        await close(session, study, min(last_seen, study.started_at + max_length))
        closed += 1
    return closed


async def log_manual_session(
    session: AsyncSession,
    *,
    user_id: int,
    started_at: datetime,
    ended_at: datetime,
    room_id: int | None = None,
) -> StudySession:
    """Study time the person logged by hand (e.g. from the dashboard)."""
    if ended_at <= started_at:
        raise BadInput("A study session has to end after it starts.")
    if ended_at - started_at > MANUAL_MAX_LENGTH:
        raise BadInput("A single study session can be at most 16 hours long.")
    study = StudySession(user_id=user_id, room_id=room_id, source="manual", started_at=started_at)
    session.add(study)
    await close(session, study, ended_at)
    await session.flush()
    return study


async def study_sessions(
    session: AsyncSession, *, user_id: int, since: datetime, until: datetime
) -> list[StudySession]:
    """The person's finished study sessions that started in [since, until), oldest first."""
    return list(
        await session.scalars(
            select(StudySession)
            .where(
                StudySession.user_id == user_id,
                StudySession.ended_at.is_not(None),
                StudySession.started_at >= since,
                StudySession.started_at < until,
            )
            .order_by(StudySession.started_at)
        )
    )


async def study_minutes(
    session: AsyncSession, *, user_id: int, since: datetime, until: datetime
) -> dict[str, int]:
    """Minutes studied in [since, until) by source: {"focus": 50, "voice": 30, ...}."""
    rows = await session.execute(
        select(StudySession.source, func.coalesce(func.sum(StudySession.minutes), 0))
        .where(
            StudySession.user_id == user_id,
            StudySession.ended_at.is_not(None),
            StudySession.started_at >= since,
            StudySession.started_at < until,
        )
        .group_by(StudySession.source)
    )
    return {source: int(total) for source, total in rows.all()}
