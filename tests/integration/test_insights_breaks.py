"""The focus timer suggests a longer break after the fourth cycle in a row (the rule is
core.insights.patterns; the solo timer's break shows it), and never to anyone else."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.clock import FixedClock
from core.jobs import JobContext, run_job
from core.outbox.models import OutboxMessage
from teddy.runtime import Runtime
from tests.integration.test_insights_chat import user_id


async def sweep(core: Runtime) -> None:
    await run_job("rooms.sweep_focus", JobContext(core.db, core.services), {})


async def focus_texts(core: Runtime, owner: int) -> list[str]:
    async with core.db.transaction() as session:
        rows = await session.scalars(
            select(OutboxMessage.text)
            .where(OutboxMessage.kind == "focus", OutboxMessage.user_id == owner)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def cycle(core: Runtime, chat, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    await chat.send("/focus 25 5")
    clock.advance(timedelta(minutes=25))
    await sweep(core)  # the break begins
    clock.advance(timedelta(minutes=5))
    await sweep(core)  # the session ends


async def test_the_fourth_focus_cycle_in_a_row_suggests_a_longer_break(
    make_chat,  # type: ignore[no-untyped-def]
    core: Runtime,
    clock: FixedClock,
) -> None:
    ann, ben = make_chat("ann"), make_chat("ben")
    await ben.send("/focus 25 5")  # ben's one session at the same time
    for _ in range(3):
        await cycle(core, ann, clock)
    ann_id, ben_id = await user_id(core, "ann"), await user_id(core, "ben")
    assert not any("longer break" in t for t in await focus_texts(core, ann_id))
    await cycle(core, ann, clock)
    advised = [t for t in await focus_texts(core, ann_id) if "longer break" in t]
    assert advised and "That was 4 focus cycles in a row" in advised[0]
    assert "15 min or so" in advised[0] and "☕ Break" in advised[0]
    assert not any("longer break" in t for t in await focus_texts(core, ben_id))

    clock.advance(timedelta(hours=2))  # a new sitting starts counting again
    before = len(advised)
    await cycle(core, ann, clock)
    assert len([t for t in await focus_texts(core, ann_id) if "longer break" in t]) == before
