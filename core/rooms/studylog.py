"""`/log`: study time done elsewhere (a library, a lecture, a book), with an optional
`#subject`, and study time per subject for /stats."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.analytics.rollup import record
from core.errors import BadInput, NotFound
from core.identity.models import User
from core.identity.service import user_zone
from core.rooms.models import SUBJECT_MAX, StudySession

# Nobody studies more than this in one day; more is a typo (`/log 45h` for 45 minutes).
DAY_LIMIT_MINUTES = 16 * 60
# How long the Undo button of a log works.
UNDO_WINDOW = timedelta(minutes=30)
LOG_USAGE = (
    "Log study time done elsewhere with `/log <time> [#subject]`, "
    "e.g. /log 45m, /log 1h30 #chem, /log 90m or /log 1.5h."
)

_UNIT_H = r"(?:h|hr|hrs|hour|hours)"
_UNIT_M = r"(?:m|min|mins|minute|minutes)"
_DURATION = re.compile(
    rf"^(?:(?P<h>\d{{1,3}}(?:[.,]\d{{1,2}})?)\s*{_UNIT_H}\s*(?:(?P<hm>\d{{1,2}})\s*{_UNIT_M}?)?"
    rf"|(?P<m>\d{{1,5}})\s*{_UNIT_M}?)$"
)
_UNIT = re.compile(rf"^(?:{_UNIT_H}|{_UNIT_M})$")
_SUBJECT = re.compile(rf"^#([\w-]{{1,{SUBJECT_MAX}}})$")


def parse_duration(text: str) -> int:
    """`45m`, `90m`, `1h30`, `1h 30m`, `1.5h`, `2 hours`, a bare `45` (minutes) -> minutes."""
    cleaned = " ".join(text.lower().split())
    found = _DURATION.match(cleaned)
    if found is None:
        hint = ""
        if any(word.isalpha() and not _UNIT.match(word) for word in cleaned.split()):
            hint = " A subject goes after a #, e.g. #chem."
        raise BadInput(f"I can't read “{text.strip()}” as a length of time.{hint} {LOG_USAGE}")
    if found["m"] is not None:
        minutes = int(found["m"])
    else:
        hours = float(found["h"].replace(",", "."))
        extra = int(found["hm"] or 0)
        if extra and not hours.is_integer():
            raise BadInput(f"Write either 1h30 or 1.5h, not both. {LOG_USAGE}")
        if extra >= 60:
            raise BadInput(f"“{text.strip()}” has {extra} minutes after the hours. {LOG_USAGE}")
        minutes = round(hours * 60) + extra
    if minutes < 1:
        raise BadInput(f"That is no time at all. {LOG_USAGE}")
    if minutes > DAY_LIMIT_MINUTES:
        raise BadInput(
            f"{format_minutes(minutes)} is more than a day of study can hold (16 h at most). "
            "Did you mean minutes? " + LOG_USAGE
        )
    return minutes


def split_subject(args: str) -> tuple[str, str | None]:
    """The words without their `#subject`, and the subject (lower case) if one was given."""
    words, subjects = [], []
    for word in args.split():
        if word.startswith("#"):
            found = _SUBJECT.match(word)
            if found is None:
                raise BadInput(
                    f"A subject is a # and up to {SUBJECT_MAX} letters, digits or dashes, "
                    "e.g. #chem or #eng-lit."
                )
            subjects.append(found[1].lower())
        else:
            words.append(word)
    if len(subjects) > 1:
        raise BadInput("One #subject at a time, please.")
    return " ".join(words), subjects[0] if subjects else None


def format_minutes(minutes: float) -> str:
    """`45 min`, `1 h`, `1 h 30 min`."""
    whole = round(minutes)
    hours, rest = divmod(whole, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" if not rest else f"{hours} h {rest} min"


def _midnight(user: User, now: datetime) -> datetime:
    local = now.astimezone(user_zone(user))
    return datetime.combine(local.date(), time(), local.tzinfo)


async def minutes_today(session: AsyncSession, user: User, now: datetime) -> int:
    """Minutes of study (any source) that started today in the user's zone."""
    total = await session.scalar(
        select(func.coalesce(func.sum(StudySession.minutes), 0)).where(
            StudySession.user_id == user.id,
            StudySession.started_at >= _midnight(user, now),
        )
    )
    return int(total or 0)


@dataclass(frozen=True)
class Logged:
    study: StudySession
    today_minutes: int


async def log_study(
    session: AsyncSession, user: User, *, minutes: int, subject: str | None, now: datetime
) -> Logged:
    """Log `minutes` studied today, ending now (starting no earlier than midnight, so the
    time counts for today). Refused when the day would hold more than 16 hours."""
    today = await minutes_today(session, user, now)
    if today + minutes > DAY_LIMIT_MINUTES:
        raise BadInput(
            f"You have {format_minutes(today)} of study today already; another "
            f"{format_minutes(minutes)} would make more than 16 h in one day. "
            "Check the number, or /log a smaller amount."
        )
    start = max(now - timedelta(minutes=minutes), _midnight(user, now))
    study = StudySession(
        user_id=user.id,
        source="manual",
        subject=subject,
        started_at=start,
        ended_at=now,
        last_seen_at=now,
        minutes=minutes,
    )
    session.add(study)
    await session.flush()
    await record(session, user.id, start, study_minutes=minutes)
    return Logged(study, today + minutes)


async def undo_log(session: AsyncSession, user: User, study_id: int, now: datetime) -> int:
    """Remove one of the user's own logs, within UNDO_WINDOW of logging it; its minutes."""
    study = await session.scalar(
        select(StudySession).where(
            StudySession.id == study_id,
            StudySession.user_id == user.id,
            StudySession.source == "manual",
        )
    )
    if study is None:
        raise NotFound("That log is gone already.")
    if study.ended_at is None or now - study.ended_at > UNDO_WINDOW:
        raise BadInput("That log is too old to undo here.")
    minutes = study.minutes
    await record(session, user.id, study.started_at, study_minutes=-minutes)
    await session.execute(delete(StudySession).where(StudySession.id == study.id))
    return minutes


async def minutes_by_subject(
    session: AsyncSession, user_id: int, *, since: datetime, until: datetime
) -> dict[str | None, int]:
    """The user's study minutes per subject (None: no subject given) in [since, until)."""
    rows = await session.execute(
        select(StudySession.subject, func.coalesce(func.sum(StudySession.minutes), 0))
        .where(
            StudySession.user_id == user_id,
            StudySession.ended_at.is_not(None),
            StudySession.started_at >= since,
            StudySession.started_at < until,
        )
        .group_by(StudySession.subject)
    )
    return {subject: int(total) for subject, total in rows.all() if total}
