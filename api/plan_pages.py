"""The study plan page: the day-by-day plan /plan shows, the exams it prepares for and the
study hours it fills. Every rule is in core.insights (the same calls as /plan, /exam and
/hours); this turns forms into calls and keeps the typed text when it is refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.pages import page, see_other
from api.web import CurrentUser, RowId, SignedIn, Tx, Viewer, check_csrf, state
from core.errors import TeddyError
from core.identity.models import User
from core.identity.service import user_zone
from core.insights import plans, service
from core.insights.hours import format_minutes, format_week
from core.insights.planner import MAX_PLAN_DAYS

router = APIRouter(include_in_schema=False)
Days = Annotated[int, Query(ge=1, le=MAX_PLAN_DAYS)]


async def _render(
    request: Request,
    session: AsyncSession,
    who: Viewer,
    user: User,
    status: int = 200,
    days: int = plans.DEFAULT_PLAN_DAYS,
    kept: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    now = state(request).now()
    zone = user_zone(user)
    plan, week, chosen = await plans.plan_for(session, user, now, days)
    exams = await service.upcoming_exams(session, user, now)
    return page(
        request,
        "plan.html",
        status,
        who=who,
        csrf=who.csrf_token,
        plan=plan,
        days=days,
        max_days=MAX_PLAN_DAYS,
        empty=not any(d.items or d.overflow for d in plan.days),
        nothing_to_plan=plans.NOTHING_TO_PLAN,
        missing=sum(item.minutes for _, item in plan.overflow),
        week=format_week(week),
        chosen=chosen,
        exams=[(e, plans.exam_when(e, zone, now)) for e in exams],
        minutes=format_minutes,
        summary=plans.day_summary,
        kept=kept or {},
        **extra,
    )


@router.get("/plan")
async def plan_page(
    request: Request,
    who: SignedIn,
    user: CurrentUser,
    session: Tx,
    days: Days = plans.DEFAULT_PLAN_DAYS,
) -> Response:
    return await _render(request, session, who, user, days=days)


async def _submit(
    request: Request,
    who: Viewer,
    user: User,
    session: AsyncSession,
    save: Callable[[str], Awaitable[object]],
    kept_as: str,
    section: str,
) -> Response:
    """One form of one text field: saved, or refused with the typed text kept in its box."""
    form = await check_csrf(request, who.csrf_token)
    text = form.get("text", "")
    try:
        async with session.begin_nested():
            await save(text)
    except TeddyError as err:
        return await _render(
            request, session, who, user, 400, error=err.plain, kept={kept_as: text}
        )
    return see_other(f"/plan#{section}")


@router.post("/plan/exams")
async def add_exam(request: Request, who: SignedIn, user: CurrentUser, session: Tx) -> Response:
    now = state(request).now()
    return await _submit(
        request,
        who,
        user,
        session,
        lambda text: service.add_exam(session, user, text, now),
        "exam",
        "exams",
    )


@router.post("/plan/exams/{exam_id}/delete")
async def delete_exam(
    request: Request, exam_id: RowId, who: SignedIn, user: CurrentUser, session: Tx
) -> Response:
    await check_csrf(request, who.csrf_token)
    try:
        async with session.begin_nested():
            await service.delete_exam_id(session, user, exam_id)
    except TeddyError as err:
        return await _render(request, session, who, user, 404, error=err.plain)
    return see_other("/plan#exams")


@router.post("/plan/hours")
async def set_hours(request: Request, who: SignedIn, user: CurrentUser, session: Tx) -> Response:
    return await _submit(
        request,
        who,
        user,
        session,
        lambda text: service.set_study_hours(session, user, text),
        "hours",
        "hours",
    )
