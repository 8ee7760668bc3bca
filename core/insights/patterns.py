"""Advice from the student's own history, only where the numbers support it: a longer
break after several focus cycles in a row, and reviews answered worse late at night.
Pure functions, plus the queries that feed /stats and the focus timer's break."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import Integer, cast, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.flashcards.models import ReviewLog
from core.identity.models import User
from core.identity.service import user_zone
from core.rooms.models import StudySession

# Pomodoro's rule: after four focus cycles, a long break.
CYCLES_BEFORE_LONG_BREAK = 4
LONG_BREAK_MINUTES = (15, 30)
# Sessions closer than this to the previous one's end are the same sitting.
SAME_SITTING = timedelta(minutes=20)
SITTING_LOOKBACK = timedelta(hours=8)
LATE_HOURS = frozenset({23, 0, 1, 2, 3, 4})
MIN_REVIEWS_EACH = 30
MIN_GAP = 0.10  # ten points of recall
MIN_Z = 2.0  # about 95% confidence that the gap is not chance
PATTERN_WINDOW = timedelta(days=90)


def cycles_in_a_row(sessions: Sequence[tuple[datetime, datetime]], now: datetime) -> int:
    """Focus cycles (start, end) in the sitting that is going on now: counted back from the
    latest while each began within SAME_SITTING of the previous one's end."""
    ordered = sorted(sessions, key=lambda s: s[0], reverse=True)
    if not ordered or now - ordered[0][1] > SAME_SITTING:
        return 0
    count = 1
    for later, earlier in pairwise(ordered):
        if later[0] - earlier[1] > SAME_SITTING:
            break
        count += 1
    return count


def break_advice(cycles: int, break_minutes: int) -> str | None:
    """After every fourth cycle in a row: take a long break instead of the short one."""
    if cycles < CYCLES_BEFORE_LONG_BREAK or cycles % CYCLES_BEFORE_LONG_BREAK:
        return None
    low, high = LONG_BREAK_MINUTES
    longer = min(max(3 * break_minutes, low), high)
    return (
        f"💡 That was {cycles} focus cycles in a row: take a longer break, "
        f"{longer} min or so, before the next one."
    )


def late_night_note(late: tuple[int, int], day: tuple[int, int]) -> str | None:
    """(recalled, reviews) late at night vs the rest of the day. A note only when both
    have MIN_REVIEWS_EACH reviews, late is at least ten points worse and a two-proportion
    z-test puts the gap beyond chance."""
    late_ok, late_n = late
    day_ok, day_n = day
    if late_n < MIN_REVIEWS_EACH or day_n < MIN_REVIEWS_EACH:
        return None
    late_rate, day_rate = late_ok / late_n, day_ok / day_n
    pooled = (late_ok + day_ok) / (late_n + day_n)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / late_n + 1 / day_n))
    if day_rate - late_rate < MIN_GAP or spread == 0 or (day_rate - late_rate) / spread < MIN_Z:
        return None
    return (
        f"Pattern: you remember less in reviews late at night (23:00–05:00): "
        f"{round(100 * late_rate)}% of {late_n:,} vs {round(100 * day_rate)}% of "
        f"{day_n:,} at other hours (last 90 days). Earlier reviews may stick better."
    )


async def review_pattern(session: AsyncSession, user: User, now: datetime) -> str | None:
    """The late-night note for /stats from the user's own reviews of the last 90 days."""
    hour = cast(extract("hour", func.timezone(user_zone(user).key, ReviewLog.reviewed_at)), Integer)
    rows = await session.execute(
        select(hour, func.count(), func.count().filter(ReviewLog.rating > 1))
        .where(ReviewLog.user_id == user.id, ReviewLog.reviewed_at >= now - PATTERN_WINDOW)
        .group_by(hour)
    )
    late, day = [0, 0], [0, 0]
    for local_hour, total, kept in rows:
        bucket = late if local_hour in LATE_HOURS else day
        bucket[0] += int(kept)
        bucket[1] += int(total)
    return late_night_note((late[0], late[1]), (day[0], day[1]))


async def focus_break_advice(
    session: AsyncSession, user_id: int, break_minutes: int, now: datetime
) -> str | None:
    """For a solo focus session in its break: the long-break advice when this was the
    fourth (eighth...) cycle of the sitting. Reads the user's own focus study rows."""
    rows = await session.execute(
        select(StudySession.started_at, StudySession.ended_at).where(
            StudySession.user_id == user_id,
            StudySession.source == "focus",
            StudySession.started_at >= now - SITTING_LOOKBACK,
            StudySession.ended_at.is_not(None),
        )
    )
    sessions = [(start, end) for start, end in rows if end is not None]
    return break_advice(cycles_in_a_row(sessions, now), break_minutes)
