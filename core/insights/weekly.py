"""The weekly report: on Monday from 08:00 in each student's zone, last week in a few
lines (time studied by subject, tasks done and slipped, reviews and retention) and what
next week holds. Sent once per user and week: the job claims `(user_id, week)` in
`insight_weekly_reports` before writing, so a re-run or a second worker sends nothing
twice. Chat through the outbox (held by quiet hours); mail to verified addresses after
the commit, at most once. Figures are read for a batch of users per query (`unnest` of
their own week bounds), each through the owner's index."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.mail import Mail, Mailer, MailNotSent
from core.analytics.vocabulary import duration, plural
from core.db import Database
from core.identity.models import User
from core.identity.service import user_zone
from core.insights.goals import week_bounds
from core.insights.models import WeeklyReport
from core.outbox.service import Notice, queue_notices

log = logging.getLogger(__name__)

REPORT_HOUR = 8
BATCH = 1000

# Users whose last week ended and whose report is not claimed yet, after a cursor.
_DUE = text(
    """
    SELECT u.id, (date_trunc('week', timezone(u.timezone, :now)))::date - 7 AS week
    FROM users u
    WHERE u.id > :after
      AND timezone(u.timezone, :now)
          >= date_trunc('week', timezone(u.timezone, :now)) + make_interval(hours => :hour)
      AND NOT EXISTS (
        SELECT 1 FROM insight_weekly_reports r
        WHERE r.user_id = u.id
          AND r.week = (date_trunc('week', timezone(u.timezone, :now)))::date - 7)
    ORDER BY u.id
    LIMIT :batch
    """
)
_WEEKS = """
    WITH w AS (
      SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:since AS timestamptz[]),
                           CAST(:until AS timestamptz[]), CAST(:next AS timestamptz[]))
        AS w(user_id, since, until, next_until))
"""
_STUDY = text(
    _WEEKS
    + """
    SELECT w.user_id, x.subject, x.minutes FROM w CROSS JOIN LATERAL (
      SELECT s.subject, sum(s.minutes) AS minutes FROM study_sessions s
      WHERE s.user_id = w.user_id AND s.started_at >= w.since AND s.started_at < w.until
      GROUP BY s.subject) x
    """
)
_REVIEWS = text(
    _WEEKS
    + """
    SELECT w.user_id, x.n, x.kept FROM w CROSS JOIN LATERAL (
      SELECT count(*) AS n, count(*) FILTER (WHERE r.rating > 1) AS kept
      FROM flashcard_reviews r
      WHERE r.user_id = w.user_id AND r.reviewed_at >= w.since AND r.reviewed_at < w.until) x
    WHERE x.n > 0
    """
)
# Tasks done or due last week, and open ones due next week: the student's own tasks,
# found through uq_tasks_user_number (user_id first); a student has few.
_TASKS = text(
    _WEEKS
    + """
    SELECT w.user_id, x.done, x.slipped, x.coming FROM w CROSS JOIN LATERAL (
      SELECT
        count(*) FILTER (WHERE t.completed_at >= w.since AND t.completed_at < w.until) AS done,
        count(*) FILTER (WHERE t.due_at >= w.since AND t.due_at < w.until
                         AND (t.completed_at IS NULL OR t.completed_at > t.due_at)) AS slipped,
        count(*) FILTER (WHERE t.completed_at IS NULL
                         AND t.due_at >= w.until AND t.due_at < w.next_until) AS coming
      FROM tasks t WHERE t.user_id = w.user_id) x
    WHERE x.done + x.slipped + x.coming > 0
    """
)
_CARDS_DUE = text(
    _WEEKS
    + """
    SELECT w.user_id, x.n FROM w CROSS JOIN LATERAL (
      SELECT count(*) AS n FROM flashcard_states c
      WHERE c.user_id = w.user_id AND c.last_review IS NOT NULL
        AND c.due < w.next_until AND NOT c.suspended) x
    WHERE x.n > 0
    """
)
_EXAMS = text(
    _WEEKS
    + """
    SELECT w.user_id, e.title, e.starts_at FROM w CROSS JOIN LATERAL (
      SELECT title, starts_at FROM insight_exams e
      WHERE e.user_id = w.user_id AND e.starts_at >= w.until AND e.starts_at < w.next_until
      ORDER BY e.starts_at) e
    """
)


@dataclass
class WeekFigures:
    by_subject: dict[str | None, int] = field(default_factory=dict)
    reviews: int = 0
    remembered: int = 0
    tasks_done: int = 0
    tasks_slipped: int = 0
    tasks_next: int = 0
    cards_next: int = 0
    exams_next: list[tuple[str, datetime]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        # A report is about a week the student studied in: what is coming alone (a task
        # added today, due next week) is not worth a message, and a student who joined
        # after the week would otherwise get a report on a week they were not there for.
        return not (
            sum(self.by_subject.values()) or self.reviews or self.tasks_done or self.tasks_slipped
        )


def report_text(figures: WeekFigures, monday: date, zone: ZoneInfo) -> str:
    """A few lines of chat markdown (mail gets the same words without the stars)."""
    sunday = monday + timedelta(days=6)
    lines = [f"**Your week, {monday:%a %d %b} – {sunday:%a %d %b}**"]
    minutes = sum(figures.by_subject.values())
    if minutes:
        parts = sorted(figures.by_subject.items(), key=lambda kv: (-kv[1], kv[0] or "~"))
        named = ", ".join(f"#{s} {duration(m)}" if s else f"other {duration(m)}" for s, m in parts)
        split = f": {named}" if len(parts) > 1 or parts[0][0] else ""
        lines.append(f"- Studied {duration(minutes)}{split}")
    else:
        lines.append("- No study time recorded (/focus or /log count)")
    slipped = ""
    if figures.tasks_slipped:
        slipped = f", {figures.tasks_slipped} slipped past their due date"
    lines.append(f"- Tasks: {figures.tasks_done} done{slipped}")
    if figures.reviews:
        kept = round(100 * figures.remembered / figures.reviews)
        lines.append(f"- Reviews: {figures.reviews:,} cards, {kept}% remembered")
    coming = [plural(figures.tasks_next, "task") + " due"]
    coming.append(plural(figures.cards_next, "card") + " to review")
    coming += [f"🎓 {title} ({at.astimezone(zone):%a %d %b})" for title, at in figures.exams_next]
    lines.append("- Next week: " + ", ".join(coming) + ". /plan lays it out day by day.")
    return "\n".join(lines)


async def _figures(
    session: AsyncSession, users: list[User], monday: dict[int, date]
) -> dict[int, WeekFigures]:
    ids, since, until, following = [], [], [], []
    for user in users:
        start, end = week_bounds(monday[user.id], user_zone(user))
        _, after = week_bounds(monday[user.id] + timedelta(days=7), user_zone(user))
        ids.append(user.id)
        since.append(start)
        until.append(end)
        following.append(after)
    params: dict[str, Any] = {"ids": ids, "since": since, "until": until, "next": following}
    found: dict[int, WeekFigures] = defaultdict(WeekFigures)
    for uid, subject, minutes in await session.execute(_STUDY, params):
        found[uid].by_subject[subject] = int(minutes or 0)
    for uid, reviews, kept in await session.execute(_REVIEWS, params):
        found[uid].reviews, found[uid].remembered = int(reviews), int(kept)
    for uid, done, slipped, due_next in await session.execute(_TASKS, params):
        found[uid].tasks_done, found[uid].tasks_slipped = int(done), int(slipped)
        found[uid].tasks_next = int(due_next)
    for uid, cards in await session.execute(_CARDS_DUE, params):
        found[uid].cards_next = int(cards)
    for uid, title, starts_at in await session.execute(_EXAMS, params):
        found[uid].exams_next.append((title, starts_at))
    return found


async def _claim(session: AsyncSession, wanted: dict[int, date], now: datetime) -> set[int]:
    """Claim each (user, week) not claimed before; only the claimed ones are sent."""
    claimed = await session.scalars(
        text(
            "INSERT INTO insight_weekly_reports (user_id, week, sent_at)"
            " SELECT u, w, :now FROM unnest(CAST(:ids AS bigint[]), CAST(:weeks AS date[])) AS"
            " x(u, w) ON CONFLICT DO NOTHING RETURNING user_id"
        ),
        {"ids": list(wanted), "weeks": list(wanted.values()), "now": now},
    )
    return set(claimed)


async def sweep(db: Database, now: datetime, mailer: Mailer | None = None) -> int:
    """Send every report that is due and not sent yet. Returns chat messages queued."""
    queued, after = 0, 0
    while True:
        mails: list[tuple[int, date, Mail]] = []
        async with db.transaction() as session:
            due = (
                await session.execute(
                    _DUE, {"now": now, "after": after, "hour": REPORT_HOUR, "batch": BATCH}
                )
            ).all()
            if due:
                after = due[-1][0]
                queued += await _send_batch(session, {uid: week for uid, week in due}, now, mails)
        for uid, week, mail in mails:
            await _mail(db, mailer, uid, week, mail, now)
        if len(due) < BATCH:
            return queued


async def _send_batch(
    session: AsyncSession,
    due: dict[int, date],
    now: datetime,
    mails: list[tuple[int, date, Mail]],
) -> int:
    claimed = await _claim(session, due, now)
    if not claimed:
        return 0
    users = list(await session.scalars(select(User).where(User.id.in_(claimed))))
    found = await _figures(session, users, due)
    notices = []
    for user in users:
        figures = found.get(user.id)
        if figures is None or figures.empty:
            continue  # nothing happened and nothing is coming: no message at all
        week = due[user.id]
        body = report_text(figures, week, user_zone(user))
        key = f"weekly:{user.id}:{week.isoformat()}"
        notices.append(Notice("weekly_report", body, key, now, user))
        if user.email and user.email_verified_at is not None:
            plain = body.replace("**", "")
            mails.append((user.id, week, Mail(user.email, "Your week in Study Teddy", plain)))
    return await queue_notices(session, notices)


async def _mail(
    db: Database, mailer: Mailer | None, uid: int, week: date, mail: Mail, now: datetime
) -> None:
    if mailer is None:
        return
    try:
        await mailer.send(mail)
    except MailNotSent:
        log.warning("weekly report mail not sent to user %s", uid)
        return
    async with db.transaction() as session:
        await session.execute(
            update(WeeklyReport)
            .where(WeeklyReport.user_id == uid, WeeklyReport.week == week)
            .values(mailed_at=now)
        )
