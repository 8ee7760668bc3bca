"""Insights' sweeps: badges newly earned by active students."""

from __future__ import annotations

from datetime import timedelta

from core.insights import badges
from core.jobs import JobContext, periodic


@periodic("insights.sweep_badges", every=timedelta(minutes=15))
async def sweep_badges(jc: JobContext) -> None:
    await badges.sweep(jc.db, jc.services.clock.now())
