"""The rooms sweeps: focus-session timers and voice sessions left open."""

from __future__ import annotations

from datetime import timedelta

from core.jobs import JobContext, periodic
from core.rooms import live, study

SWEEP_BATCH = 200


@periodic("rooms.sweep_focus", timedelta(seconds=15))
async def sweep_focus(jc: JobContext) -> None:
    """Advance focus sessions whose phase ended or whose countdown moved, in batches, each
    its own transaction (a crash loses at most a batch, which the next sweep redoes)."""
    await sweep_focus_once(jc)


async def sweep_focus_once(jc: JobContext, *, batch: int = SWEEP_BATCH) -> list[live.Advanced]:
    now = jc.services.clock.now()
    done: list[live.Advanced] = []
    while True:
        async with jc.db.transaction() as session:
            advanced = await live.sweep_due(session, jc.services, now, limit=batch)
        done.extend(advanced)
        if len(advanced) < batch:
            return done


@periodic("rooms.sweep_voice", timedelta(minutes=5))
async def sweep_voice(jc: JobContext) -> None:
    """Close voice study sessions whose leave event never came."""
    async with jc.db.transaction() as session:
        await study.close_stale_voice_sessions(session, jc.services.clock.now())
