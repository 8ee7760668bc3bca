"""/stats [week|month|all]."""

from __future__ import annotations

import asyncio

from core.analytics import service
from core.analytics.chart import render_png
from core.chat import Ctx, Reply, Router
from core.chat.messages import Card
from core.chat.router import CHOICE, Param

router = Router()


@router.command(
    "stats",
    usage="/stats [week|month|all]",
    summary="your statistics with a chart",
    area="everyone",
    params=(Param("period", "the period shown", CHOICE, choices=("week", "month", "all")),),
)
async def stats(ctx: Ctx, args: str) -> Reply:
    period = service.parse_period(args)
    report = await service.user_stats(ctx.session, ctx.user, period, ctx.clock.now())
    png = await asyncio.to_thread(render_png, report)
    fields = [("streak", f"{report.streak} days"), ("things done", str(report.total_activity))]
    if report.tasks is not None:
        fields.append(("tasks done", f"{report.tasks.done}/{report.tasks.total}"))
    return Reply.text(service.summary_text(report)).with_parts(
        Card("Your activity", tuple(fields), image=png, image_name=f"stats-{period}.png")
    )
