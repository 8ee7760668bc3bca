"""Periodic sweeps of tasks and reminders (Celery beat, or `teddy jobs run-due`)."""

from __future__ import annotations

from datetime import timedelta

from core.jobs import JobContext, periodic
from core.tasks import reminders


@periodic("tasks.sweep_reminders", every=timedelta(minutes=1))
async def sweep_reminders(jc: JobContext) -> None:
    now = jc.services.clock.now()
    minutes = jc.services.settings.task_reminder_minutes
    await reminders.sweep_task_reminders(jc.db, now, minutes)
    await reminders.sweep_one_off_reminders(jc.db, now)


@periodic("tasks.sweep_digests", every=timedelta(minutes=5))
async def sweep_digests(jc: JobContext) -> None:
    await reminders.sweep_digests(jc.db, jc.services.clock.now())
