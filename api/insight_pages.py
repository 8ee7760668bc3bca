"""The insights page: weekly goals, badges, predicted retention per deck with cards at
risk, and the calibration curve. The charts are the chat's own images (one drawing for
both), served as PNGs of the signed-in student only."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.pages import page
from api.web import Viewer, load_user, state, viewer
from core.identity.service import user_zone
from core.insights import badges, goals
from core.insights.forecast import (
    build_forecast,
    calibration_png,
    calibration_summary,
    forecast_png,
)

router = APIRouter(include_in_schema=False)
PRIVATE_IMAGE = {"Cache-Control": "private, no-store"}


@router.get("/insights")
async def insights_page(request: Request, who: Viewer = Depends(viewer)) -> Response:
    web = state(request)
    now = web.now()
    async with web.transaction() as session:
        user = await load_user(session, who)
        weekly = await goals.progress(session, user, None, now)
        earned = await badges.badges_of(session, user)
        found = await build_forecast(session, user, now)
    zone = user_zone(user)
    decks = []
    for deck in found.decks if found else []:
        exam = None
        if deck.exam is not None:
            exam = f"{deck.exam.title} ({deck.exam.starts_at.astimezone(zone):%a %d %b})"
        decks.append((deck, exam))
    return page(
        request,
        "insights.html",
        who=who,
        goals=[(goals.progress_line(p), p) for p in weekly],
        badges=[badges.title_of(b.key) for b in earned],
        forecast=found,
        decks=decks,
        calibration=calibration_summary(found.calibration) if found else "",
    )


@router.get("/insights/forecast.png")
async def forecast_image(request: Request, who: Viewer = Depends(viewer)) -> Response:
    web = state(request)
    async with web.transaction() as session:
        found = await build_forecast(session, await load_user(session, who), web.now())
    if found is None:
        return Response(status_code=404)
    png = await forecast_png(found)
    return Response(png, media_type="image/png", headers=PRIVATE_IMAGE)


@router.get("/insights/calibration.png")
async def calibration_image(request: Request, who: Viewer = Depends(viewer)) -> Response:
    web = state(request)
    async with web.transaction() as session:
        found = await build_forecast(session, await load_user(session, who), web.now())
    png = await calibration_png(found) if found is not None else None
    if png is None:
        return Response(status_code=404)
    return Response(png, media_type="image/png", headers=PRIVATE_IMAGE)
