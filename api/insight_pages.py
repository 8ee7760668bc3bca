"""The insights page: weekly goals, badges, predicted retention per deck with cards at
risk, and the calibration curve. The charts are the chat's own images (one drawing for
both), served as PNGs of the signed-in student only. The calibration, the costly part,
is computed once per change of the student's reviews and kept in Redis: the page and its
two images read the same result."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages import page
from api.web import CurrentUser, SignedIn, Tx, state
from core.identity.service import user_zone
from core.insights import badges, goals
from core.insights.forecast import (
    build_forecast,
    calibration_png,
    calibration_summary,
    forecast_png,
    own_calibration,
)

router = APIRouter(include_in_schema=False)
PRIVATE_IMAGE = {"Cache-Control": "private, no-store"}


@router.get("/insights")
async def insights_page(
    request: Request, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    web = state(request)
    now = web.now()
    weekly = await goals.progress(session, user, None, now)
    earned = await badges.badges_of(session, user)
    found = await build_forecast(session, user, now, web.redis)
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
async def forecast_image(request: Request, user: CurrentUser, session: Tx) -> Response:
    web = state(request)
    found = await build_forecast(session, user, web.now(), web.redis)
    if found is None:
        return Response(status_code=404)
    png = await forecast_png(found)
    return Response(png, media_type="image/png", headers=PRIVATE_IMAGE)


@router.get("/insights/calibration.png")
async def calibration_image(request: Request, user: CurrentUser, session: Tx) -> Response:
    png = await calibration_png(await own_calibration(session, user, state(request).redis))
    if png is None:
        return Response(status_code=404)
    return Response(png, media_type="image/png", headers=PRIVATE_IMAGE)
