"""The weekly report job: Monday morning in each student's own zone, last week's figures
(theirs only) and next week's load, once per user and week by chat and, where the email
is verified, by mail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from api.mail import SmtpMailer
from core.clock import FixedClock
from core.insights import weekly
from core.insights.models import WeeklyReport
from core.outbox.models import OutboxMessage
from teddy.runtime import Runtime
from tests.integration.test_insights_chat import user_id
from tests.integration.test_insights_goals import add_reviews
from tests.support.mailbox import Mailbox

# Monday 30 Nov: 09:30 in Tokyo, still Sunday 16:30 in Los Angeles.
TOKYO_MONDAY = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
LA_MONDAY = datetime(2026, 11, 30, 16, 5, tzinfo=UTC)  # 08:05 in Los Angeles


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


async def reports(core: Runtime) -> list[OutboxMessage]:
    async with core.db.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "weekly_report")
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def verify_email(core: Runtime, external_id: str, address: str) -> None:
    async with core.db.transaction() as session:
        await session.execute(
            text("UPDATE users SET email = :e, email_verified_at = now() WHERE id = :u"),
            {"e": address, "u": await user_id(core, external_id)},
        )


async def test_each_student_gets_their_own_week_once_on_their_monday_morning(
    make_chat,  # type: ignore[no-untyped-def]
    core: Runtime,
    clock: FixedClock,
    mailbox: Mailbox,
) -> None:
    ann, ben, cid = make_chat("ann"), make_chat("ben"), make_chat("cid")
    await ann.say("/settings tz Asia/Tokyo")
    await ben.say("/settings tz America/Los_Angeles")
    await cid.say("/settings tz Asia/Tokyo")  # nothing happens for cid all week
    await ann.say("/log 1h #chem")
    await ann.say("/log 30m")
    await ann.say("/task Essay fri")  # never done: slipped
    await ann.say("/task Read notes")
    await ann.say("/done 2")
    await ann.say("/task Lab report dec 2")  # next week
    await ann.say("/exam Chemistry final dec 3")
    await ann.say("/deck Latin")
    await ann.say("/card amo | I love")
    await add_reviews(core, "ann", [clock.now()] * 3)
    await add_reviews(core, "ann", [clock.now()], rating=1)
    async with core.db.transaction() as session:  # the state those reviews left: due Tue
        await session.execute(
            text("UPDATE flashcard_states SET last_review = :r, due = :d, stability = 5"),
            {"r": clock.now(), "d": datetime(2026, 12, 1, 3, tzinfo=UTC)},
        )
    await ben.say("/log 3h #art")
    await verify_email(core, "ann", "ann@example.org")
    mailer = SmtpMailer(mailbox.url, "teddy@example.org")

    assert await weekly.sweep(core.db, TOKYO_MONDAY - timedelta(hours=2), mailer) == 0  # 07:30
    assert await weekly.sweep(core.db, TOKYO_MONDAY, mailer) == 1
    [sent] = await reports(core)
    assert sent.user_id == await user_id(core, "ann")
    assert sent.text.splitlines() == [
        "**Your week, Mon 23 Nov – Sun 29 Nov**",
        "- Studied 1 h 30 min: #chem 1 h, other 30 min",
        "- Tasks: 1 done, 1 slipped past their due date",
        "- Reviews: 4 cards, 75% remembered",
        "- Next week: 1 task due, 1 card to review, 🎓 Chemistry final (Thu 03 Dec). "
        "/plan lays it out day by day.",
    ]
    mail = mailbox.last_to("ann@example.org")
    assert "Studied 1 h 30 min" in mail.text and "**" not in mail.text
    assert "#art" not in sent.text  # ben's study is his own

    # Re-runs (another worker, the next sweep) send nothing twice, by chat or mail.
    assert await weekly.sweep(core.db, TOKYO_MONDAY + timedelta(minutes=15), mailer) == 0
    assert mailbox.count_to("ann@example.org") == 1
    async with core.db.transaction() as session:
        claimed = {r.user_id: r for r in await session.scalars(select(WeeklyReport))}
    assert claimed[sent.user_id].mailed_at is not None
    assert await user_id(core, "cid") in claimed  # claimed, but nothing to say: no message

    assert await weekly.sweep(core.db, LA_MONDAY, mailer) == 1
    ben_report = (await reports(core))[-1]
    assert ben_report.user_id == await user_id(core, "ben")
    assert "- Studied 3 h: #art 3 h" in ben_report.text and "Reviews" not in ben_report.text
    assert len(await reports(core)) == 2


async def test_a_report_due_in_quiet_hours_waits_for_them_to_end(
    make_chat,  # type: ignore[no-untyped-def]
    core: Runtime,
) -> None:
    ann = make_chat("ann")
    await ann.say("/settings quiet 22:00-09:00")
    await ann.say("/log 20m")
    monday_8 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert await weekly.sweep(core.db, monday_8) == 1
    [sent] = await reports(core)
    assert sent.deliver_after == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
