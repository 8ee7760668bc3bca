"""Studying alone: `/focus` in a direct chat (Pause / Resume / Stop) and `/log` for time
studied elsewhere (with Undo). The group `/focus` lives in `commands.py`."""

from __future__ import annotations

from core.chat import Ctx, Reply, Router
from core.chat.messages import Button
from core.chat.router import Param, action_id
from core.errors import BadInput
from core.rooms import live, service, solo, studylog
from core.rooms.models import FocusSession

router = Router()


def parse_focus(args: str) -> tuple[int, int, str | None]:
    """`/focus [minutes] [break] [#subject]` -> (minutes, break, subject)."""
    rest, subject = studylog.split_subject(args)
    minutes, pause = service.parse_focus_args(rest)
    return minutes, pause, subject


async def solo_focus(ctx: Ctx, args: str) -> Reply:
    """`/focus` in a direct chat; `/focus stop` ends the running one."""
    now = ctx.clock.now()
    if args.strip().lower() == "stop":
        return await _live_reply(ctx, await solo.stop_solo(ctx.session, ctx.user, None, now))
    minutes, pause, subject = parse_focus(args)
    started = await solo.start_solo(
        ctx.session, ctx.user, focus_minutes=minutes, break_minutes=pause, subject=subject, now=now
    )
    return await _live_reply(ctx, started)


async def _live_reply(ctx: Ctx, focus: FocusSession) -> Reply:
    await ctx.session.flush()
    view = await service.focus_view(ctx.session, focus)
    return live.reply(view, ctx.clock.now())


def _focus_id(payload: str) -> int:
    if not payload.isdigit():
        raise BadInput("That button has expired. Try /focus again.")
    return int(payload)


@router.action("focus.pause")
async def pause(ctx: Ctx, payload: str) -> Reply:
    focus = await solo.pause_solo(ctx.session, ctx.user, _focus_id(payload), ctx.clock.now())
    return await _live_reply(ctx, focus)


@router.action("focus.resume")
async def resume(ctx: Ctx, payload: str) -> Reply:
    focus = await solo.resume_solo(ctx.session, ctx.user, _focus_id(payload), ctx.clock.now())
    return await _live_reply(ctx, focus)


@router.action("focus.stop")
async def stop(ctx: Ctx, payload: str) -> Reply:
    focus = await solo.stop_solo(ctx.session, ctx.user, _focus_id(payload), ctx.clock.now())
    return await _live_reply(ctx, focus)


@router.command(
    "log",
    usage="/log <time> [#subject]",
    summary="log study time done elsewhere, e.g. /log 45m #chem (counts for your streak)",
    area="everyone",
    params=(
        Param("time", "how long, e.g. 45m, 1h30, 1.5h", required=True),
        Param("subject", "what you studied, e.g. #chem", prefix="#"),
    ),
)
async def log(ctx: Ctx, args: str) -> Reply:
    rest, subject = studylog.split_subject(args)
    if not rest.strip():
        raise BadInput(studylog.LOG_USAGE)
    minutes = studylog.parse_duration(rest)
    logged = await studylog.log_study(
        ctx.session, ctx.user, minutes=minutes, subject=subject, now=ctx.clock.now()
    )
    what = f" of #{subject}" if subject else ""
    return Reply.text(
        f"Logged {studylog.format_minutes(minutes)}{what}. "
        f"Study time today: {studylog.format_minutes(logged.today_minutes)}.",
        [Button("Undo", action_id("study.unlog", logged.study.id))],
    )


@router.action("study.unlog")
async def unlog(ctx: Ctx, payload: str) -> Reply:
    if not payload.isdigit():
        raise BadInput("That button has expired.")
    minutes = await studylog.undo_log(ctx.session, ctx.user, int(payload), ctx.clock.now())
    return Reply.text(f"Undone: {studylog.format_minutes(minutes)} removed from your study time.")
