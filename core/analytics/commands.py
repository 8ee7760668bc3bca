"""/stats [week|month|all]."""

from __future__ import annotations

import asyncio

from core.analytics import service
from core.analytics.chart import render_png
from core.chat import Ctx, Reply, Router
from core.chat.messages import Card
from core.chat.router import CHOICE, Param
from core.insights.goal_commands import stats_lines

router = Router()

# The Card's fields: the figures a glance needs (the text has them all).
CARD_FIGURES = ("streak", "study_time", "things_done")


@router.command(
    "stats",
    usage="/stats [week|month|all]",
    summary="your statistics with a chart; the streak counts days with reviews, focus or /log",
    area="everyone",
    params=(Param("period", "the period shown", CHOICE, choices=("week", "month", "all")),),
)
async def stats(ctx: Ctx, args: str) -> Reply:
    period = service.parse_period(args)
    report = await service.user_stats(ctx.session, ctx.user, period, ctx.clock.now())
    png = await asyncio.to_thread(render_png, report)
    fields = tuple((f.label, f.text) for f in service.figures(report) if f.key in CARD_FIGURES)
    text = service.summary_text(report)
    if extra := await stats_lines(ctx):
        text += "\n" + "\n".join(extra)
    return Reply.text(text).with_parts(
        Card("Your activity", fields, image=png, image_name=f"stats-{period}.png")
    )
