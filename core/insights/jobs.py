"""Insights' sweeps: badges newly earned by active students; weekly reports."""

from __future__ import annotations

from datetime import timedelta

from core.insights import badges, weekly
from core.jobs import JobContext, periodic


@periodic("insights.sweep_badges", every=timedelta(minutes=15))
async def sweep_badges(jc: JobContext) -> None:
    await badges.sweep(jc.db, jc.services.clock.now())


@periodic("insights.sweep_weekly_reports", every=timedelta(minutes=15))
async def sweep_weekly_reports(jc: JobContext) -> None:
    await weekly.sweep(jc.db, jc.services.clock.now(), jc.services.mailer)
