"""/goal (weekly goals, a student's own or a room's shared one) and /badges."""

from __future__ import annotations

from core.chat import Ctx, Reply, Router
from core.chat.router import Param
from core.errors import BadInput
from core.insights import badges, goals, patterns
from core.insights.goals import GOAL_EXAMPLES, GOAL_USAGE

router = Router()

AREA = "insights"


async def goal_lines(ctx: Ctx) -> list[str]:
    """This week's progress lines of the user's own goals (for /goal and /stats)."""
    found = await goals.progress(ctx.session, ctx.user, None, ctx.clock.now())
    return [f"- {goals.progress_line(p)}" for p in found]


async def stats_lines(ctx: Ctx) -> list[str]:
    """What insights adds under /stats: this week's goals, and a pattern in the student's
    reviews when their numbers support one."""
    lines = []
    if progress := await goal_lines(ctx):
        lines += ["**Weekly goals**", *progress]
    if note := await patterns.review_pattern(ctx.session, ctx.user, ctx.clock.now()):
        lines.append(note)
    return lines


async def _goal_view(ctx: Ctx, lead: str = "") -> Reply:
    now = ctx.clock.now()
    found = await goals.progress(ctx.session, ctx.user, ctx.room, now)
    whose = "This room's" if ctx.room is not None else "Your"
    zone = goals.owner_zone(ctx.user, ctx.room)
    monday = goals.week_start(now, zone)
    head = f"{lead}\n\n" if lead else ""
    if not found:
        shared = " A room's goal is shared: everyone's work counts." if ctx.room else ""
        return Reply.text(f"{head}No weekly goals yet. Set one: {GOAL_EXAMPLES}.{shared}")
    lines = [f"**{whose} goals for the week of {monday:%a %d %b}**"]
    lines += [f"- {goals.progress_line(p)}" for p in found]
    if ctx.room is not None:
        lines.append("Everyone's study, reviews and tasks in the room count.")
    lines.append(f"Change: {GOAL_EXAMPLES}; remove: `/goal off reviews`.")
    return Reply.text(head + "\n".join(lines))


@router.command(
    "goal",
    usage=GOAL_USAGE,
    summary="weekly goals (study time, reviews, tasks done); in a room, a shared goal",
    area=AREA,
    params=(Param("goal", "e.g. 5h study, 200 reviews, 10 tasks, off tasks"),),
)
async def goal(ctx: Ctx, args: str) -> Reply:
    if not args.strip():
        return await _goal_view(ctx)
    change = goals.parse_goal(args)
    await goals.change_goal(ctx.session, ctx.user, ctx.room, change)
    label = goals.LABELS[change.metric].lower()
    if change.target is None:
        lead = f"Removed the {label} goal."
    else:
        lead = f"🎯 Goal set: {goals.amount(change.metric, change.target)} {label} a week."
    return await _goal_view(ctx, lead)


@router.command("badges", usage="/badges", summary="the badges you have earned", area=AREA)
async def badge_list(ctx: Ctx, args: str) -> Reply:
    if args.strip():
        raise BadInput("`/badges` takes nothing after it.")
    earned = await badges.badges_of(ctx.session, ctx.user)
    private = ctx.room is not None
    if not earned:
        return Reply.text(
            "No badges yet: study a few days in a row, review cards, finish tasks or meet a "
            "/goal. New ones are announced once, outside your quiet hours.",
            private=private,
        )
    lines = [f"**Your badges ({len(earned)})**"]
    lines += [f"- {badges.title_of(b.key)}" for b in earned[-30:]]
    return Reply.text("\n".join(lines), private=private)
