"""The morning digest carries today's part of the study plan, from the insights
capability's digest hook, only for a student whose plan says more than the task list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.clock import FixedClock
from teddy.runtime import Runtime
from tests.integration.tasks_helpers import run_due
from tests.integration.test_insights_chat import set_card_states
from tests.support.chat_replies import outbox_texts

THURSDAY_8AM = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


async def test_digest_shows_todays_plan_only_to_the_student_with_an_exam(
    core: Runtime,
    make_chat,  # type: ignore[no-untyped-def]
    clock: FixedClock,
) -> None:
    ana, ben = make_chat("ana"), make_chat("ben")
    for who in (ana, ben):
        await who.say("/settings digest 08:00")
    await ana.say("/exam Chemistry final sat")
    await ana.say("/task Lab report thu 5pm")
    await ben.say("/task Essay thu 6pm")
    clock.set(THURSDAY_8AM)
    await run_due(core)
    await run_due(core)
    digests = await outbox_texts(core, "digest")
    assert len(digests) == 2
    ana_digest = next(d for d in digests if "Lab report" in d)
    ben_digest = next(d for d in digests if "Essay" in d)
    assert "Today's plan" in ana_digest
    assert "Study for Chemistry final (2 days to go) — 45 min" in ana_digest
    assert "Task 1: Lab report (due today)" in ana_digest
    # Ben has no exam and no cards: his digest is the task list as before, and never Ana's.
    assert ben_digest.splitlines() == ["**Your tasks for Thu 26 Nov**", "- 1. Essay — Thu 18:00"]
    assert "Chemistry" not in ben_digest and "Lab report" not in ben_digest


@pytest.mark.parametrize("task_due_today", [True, False])
async def test_cards_due_today_put_the_plan_in_the_digest(
    core: Runtime,
    make_chat,  # type: ignore[no-untyped-def]
    clock: FixedClock,
    task_due_today: bool,
) -> None:
    cleo = make_chat("cleo")
    await cleo.say("/settings digest 08:00")
    if task_due_today:
        await cleo.say("/task Reading thu 9pm")
    await cleo.say("/deck Latin")
    await cleo.say("/card amo | I love")
    await cleo.say("/card video | I see")
    await set_card_states(
        core,
        "cleo",
        "Latin",
        due=THURSDAY_8AM,
        stability=5,
        reviewed=datetime(2026, 11, 20, tzinfo=UTC),
    )
    clock.set(THURSDAY_8AM)
    await run_due(core)
    (digest,) = await outbox_texts(core, "digest")
    assert "- Review Latin: 2 cards due — 1 min" in digest
    if task_due_today:
        assert digest.startswith("**Your tasks for Thu 26 Nov**") and "Reading" in digest
    else:  # the cards alone bring the digest: the plan and no task list
        assert digest.startswith("**Today's plan**") and "Your tasks" not in digest


async def test_an_exam_ahead_brings_the_digest_on_a_day_with_no_task_due(
    core: Runtime,
    make_chat,  # type: ignore[no-untyped-def]
    clock: FixedClock,
) -> None:
    dana, eli = make_chat("dana"), make_chat("eli")
    for who in (dana, eli):
        await who.say("/settings digest 08:00")
    await dana.say("/exam Physics oral sat")
    await eli.say("/task Someday next month")  # nothing due today, no exam, no cards
    clock.set(THURSDAY_8AM)
    await run_due(core)
    await run_due(core)
    (digest,) = await outbox_texts(core, "digest")
    lines = digest.splitlines()
    assert lines[0].startswith("**Today's plan**")
    assert "Study for Physics oral (2 days to go)" in digest
    assert "Your tasks" not in digest and "Someday" not in digest
