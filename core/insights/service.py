"""Exams and available hours: the student's own rows, always scoped to the acting user."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.markup import escape, shorten
from core.errors import BadInput, NotFound
from core.identity.models import User
from core.identity.service import user_zone
from core.insights.hours import DEFAULT_MINUTES, parse_hours
from core.insights.models import Exam, StudyHours
from core.tasks.parsing import languages_for, parse_task_text

EXAM_USAGE = "/exam <subject or title> <date>"
EXAM_EXAMPLE = "`/exam Chemistry final dec 18`"
MAX_UPCOMING_EXAMS = 50


def _local_midnight(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone).date()
    return datetime(local.year, local.month, local.day, tzinfo=zone).astimezone(UTC)


async def add_exam(session: AsyncSession, user: User, text: str, now: datetime) -> Exam:
    """Read `Chemistry final dec 18 [#chem]` in the user's zone and keep it. Raises
    BadInput for no date, a past date, or no title."""
    if not text.strip():
        raise BadInput(f"Which exam, and when? `{EXAM_USAGE}`, e.g. {EXAM_EXAMPLE}.")
    parsed = parse_task_text(text, now, user_zone(user), languages_for(user.locale))
    if parsed.priority is not None:
        raise BadInput(f"An exam has no !priority. `{EXAM_USAGE}`, e.g. {EXAM_EXAMPLE}.")
    if parsed.due is None:
        raise BadInput(
            f"When is “{escape(shorten(text, 40))}”? Put the date at the end: {EXAM_EXAMPLE} "
            "or `/exam Physics midterm 2026-12-10 9am`."
        )
    title = " ".join(parsed.title.split())
    if not title:
        raise BadInput(f"Which exam is on that day? Name it: {EXAM_EXAMPLE}.")
    if len(await upcoming_exams(session, user, now)) >= MAX_UPCOMING_EXAMS:
        raise BadInput(f"You have {MAX_UPCOMING_EXAMS} upcoming exams; delete one first.")
    exam = Exam(
        user_id=user.id,
        title=title,
        subject=parsed.subject,
        starts_at=parsed.due.at,
        time_given=parsed.due.time_given,
    )
    session.add(exam)
    await session.flush()
    return exam


async def upcoming_exams(session: AsyncSession, user: User, now: datetime) -> list[Exam]:
    """The user's exams from today (in their zone) on, soonest first: the /exams numbers."""
    since = _local_midnight(now, user_zone(user))
    rows = await session.scalars(
        select(Exam)
        .where(Exam.user_id == user.id, Exam.starts_at >= since)
        .order_by(Exam.starts_at, Exam.id)
    )
    return list(rows)


async def delete_exam_number(session: AsyncSession, user: User, number: int, now: datetime) -> Exam:
    exams = await upcoming_exams(session, user, now)
    if not 1 <= number <= len(exams):
        if not exams:
            raise NotFound("You have no upcoming exams. Add one: " + EXAM_EXAMPLE)
        raise NotFound(f"There is no exam {number}: /exams lists 1 to {len(exams)}.")
    exam = exams[number - 1]
    await session.delete(exam)
    await session.flush()
    return exam


async def delete_exam_id(session: AsyncSession, user: User, exam_id: int) -> Exam:
    """For the delete button: only the acting user's own exam."""
    exam = await session.scalar(select(Exam).where(Exam.id == exam_id, Exam.user_id == user.id))
    if exam is None:
        raise NotFound("That exam is gone already: /exams shows the ones left.")
    await session.delete(exam)
    await session.flush()
    return exam


async def study_hours(session: AsyncSession, user: User) -> tuple[tuple[int, ...], bool]:
    """Minutes available per weekday (Monday first), and whether the user set them."""
    row = await session.get(StudyHours, user.id)
    if row is None or len(row.minutes) != 7:
        return DEFAULT_MINUTES, False
    return tuple(row.minutes), True


async def set_study_hours(session: AsyncSession, user: User, text: str) -> tuple[int, ...]:
    current, _ = await study_hours(session, user)
    week = parse_hours(text, current)
    await session.execute(
        insert(StudyHours)
        .values(user_id=user.id, minutes=list(week))
        .on_conflict_do_update(
            index_elements=[StudyHours.user_id],
            set_={"minutes": list(week), "updated_at": func.now()},
        )
    )
    await session.flush()
    return week
