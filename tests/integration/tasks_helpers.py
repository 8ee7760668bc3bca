"""Helpers shared by the task tests: run the sweeps as `teddy jobs run-due` does, and read
what reached the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from core.jobs import PERIODIC, JobContext, run_job
from core.outbox import service as outbox
from core.tasks.models import Task
from teddy.runtime import Runtime


async def run_due(core: Runtime) -> None:
    context = JobContext(core.db, core.services)
    for name in sorted(PERIODIC):
        await run_job(name, context, {})


async def deliverable(
    core: Runtime, platform: str, at: datetime, kind: str = "reminder"
) -> list[str]:
    """Claim and mark delivered what a platform adapter would send at `at`; the texts of
    one kind (run_due also runs the other capabilities' jobs, e.g. the weekly report)."""
    async with core.db.transaction() as session:
        messages = await outbox.claim_due(session, platform, at)
        for message in messages:
            outbox.mark_delivered(message, at)
        return [m.text for m in messages if m.kind == kind]


async def task_count(core: Runtime) -> int:
    async with core.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Task)) or 0)
