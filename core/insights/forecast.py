"""The retention forecast and the calibration of one student, for chat and the web alike:
read their cards, reviews and exams, compute, and draw."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import User
from core.identity.service import user_zone
from core.insights import inputs, service
from core.insights.calibration import MIN_PREDICTIONS, Calibration
from core.insights.calibration_cache import CalibrationCache, user_calibration
from core.insights.chart import render_calibration_png, render_png
from core.insights.retention import DeckRetention, deck_retention


@dataclass(frozen=True)
class Forecast:
    decks: list[DeckRetention]
    desired: float
    today: date
    exam_days: list[date]
    calibration: Calibration

    @property
    def at_risk(self) -> int:
        return sum(d.at_risk for d in self.decks)


async def build_forecast(
    session: AsyncSession, user: User, now: datetime, cache: CalibrationCache | None
) -> Forecast | None:
    """None when the student has no flashcards. The calibration comes from `cache` when
    the student's reviews have not changed since it was computed."""
    memories = await inputs.card_memories(session, user, now)
    if not memories:
        return None
    scheduler = await inputs.review_scheduler(session, user)
    curve, desired = await inputs.review_settings(session, user)
    exams = inputs.exam_inputs(await service.upcoming_exams(session, user, now))
    zone = user_zone(user)
    return Forecast(
        deck_retention(memories, now, curve, desired, exams),
        desired,
        now.astimezone(zone).date(),
        [e.starts_at.astimezone(zone).date() for e in exams],
        await user_calibration(session, user, scheduler, cache),
    )


async def own_calibration(
    session: AsyncSession, user: User, cache: CalibrationCache | None
) -> Calibration:
    """The calibration alone (the one `build_forecast` gives), for its chart."""
    scheduler = await inputs.review_scheduler(session, user)
    return await user_calibration(session, user, scheduler, cache)


async def forecast_png(forecast: Forecast) -> bytes:
    return await asyncio.to_thread(
        render_png, forecast.decks, forecast.today, forecast.desired, forecast.exam_days
    )


async def calibration_png(calibration: Calibration) -> bytes | None:
    if not calibration.enough:
        return None
    return await asyncio.to_thread(render_calibration_png, calibration)


def calibration_summary(calibration: Calibration) -> str:
    if not calibration.enough:
        return (
            f"Calibration: {calibration.predictions} of the {MIN_PREDICTIONS} reviews a day or "
            "more apart needed to compare FSRS's predictions with your answers."
        )
    gap = round(100 * (calibration.actual - calibration.predicted))
    verdict = (
        "FSRS predicts you well"
        if abs(gap) <= 5
        else "you remember more than FSRS expects"
        if gap > 0
        else "you forget more than FSRS expects"
    )
    return (
        f"Calibration over {calibration.predictions:,} reviews: predicted recall "
        f"{round(100 * calibration.predicted)}%, you recalled "
        f"{round(100 * calibration.actual)}% ({verdict})."
    )
