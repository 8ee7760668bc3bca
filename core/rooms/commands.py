"""/room, /focus (with its Join / Leave / Stop buttons) and /leaderboard."""

from __future__ import annotations

from core.chat import Ctx, Reply, Router
from core.chat.markup import escape
from core.chat.router import CHOICE, INTEGER, Param
from core.errors import BadInput
from core.identity.models import Room
from core.identity.service import parse_timezone
from core.rooms import link_commands, linking, live, service, study_commands
from core.rooms.models import FocusSession

router = Router()
router.include(study_commands.router)
router.include(link_commands.router)

ROOM_USAGE = (
    "`/room` shows the room. Admins can set `/room tz <Area/City>` (for “today” and the "
    "leaderboard weeks) and `/room voice on|off` (Discord: time in this voice channel counts "
    "as study time). Linked rooms (one room across chats and platforms): `/room link` "
    "(admins: a one-time code), `/room join <code>` in the other chat (its admins), "
    "`/room unlink`, `/room relay on|off` (/say)."
)


def _room(ctx: Ctx) -> Room:
    assert ctx.room is not None  # the router only calls rooms_only handlers in rooms
    return ctx.room


async def _note_admin(ctx: Ctx, *, ask: bool) -> None:
    """Record what the platform says about the sender being an admin of this room; `ask`
    (for commands only admins may run) asks a platform where knowing costs a request."""
    said = await ctx.incoming.sender_admin(ask=ask)
    if said is not None and ctx.room is not None:
        await service.set_admin(
            ctx.session, room_id=ctx.room.id, user_id=ctx.user.id, is_admin=said
        )


@router.command(
    "room",
    usage="/room [tz|voice|link|join|unlink|relay] [value]",
    summary="the room's status: members, today's focus time, the running session",
    area="rooms",
    rooms_only=True,
    params=(
        Param(
            "setting",
            "admins: change a room setting, or link this chat with others",
            CHOICE,
            choices=("tz", "voice", *link_commands.LINK_KEYS),
        ),
        Param("value", "tz: an Area/City zone; voice, relay: on or off; join: the code"),
    ),
)
async def room(ctx: Ctx, args: str) -> Reply:
    key, _, value = args.strip().partition(" ")
    key = key.lower()
    await _note_admin(ctx, ask=key in ("tz", "timezone", "voice", *link_commands.LINK_KEYS))
    if key in link_commands.LINK_KEYS:
        return await link_commands.room_link_command(ctx, _room(ctx), key, value)
    if key in ("tz", "timezone"):
        zone = parse_timezone(value) if value.strip() else ""
        if not zone:
            raise BadInput(ROOM_USAGE)
        await service.configure(ctx.session, _room(ctx), ctx.user, timezone=zone)
        return Reply.text(f"This room's time zone is now {zone}.")
    if key == "voice":
        choice = value.strip().lower()
        if choice not in ("on", "off"):
            raise BadInput(ROOM_USAGE)
        await service.configure(ctx.session, _room(ctx), ctx.user, study_voice=choice == "on")
        state = "counts" if choice == "on" else "no longer counts"
        return Reply.text(f"Time in this voice channel {state} as study time.")
    if key:
        raise BadInput(ROOM_USAGE)
    return Reply.text(await _status_text(ctx))


async def _status_text(ctx: Ctx) -> str:
    now = ctx.clock.now()
    status = await service.room_status(ctx.session, _room(ctx), ctx.user, now)
    title = escape(status.room.title or "This room")
    names = ", ".join(escape(n) for n in status.members)
    lines = [
        f"**{title}**",
        f"- members ({len(status.members)}): {names}",
        f"- focus time today: {status.today_minutes} min",
        *(await link_commands.linked_lines(ctx, status.room) if status.joined_chats else []),
    ]
    if status.running is None:
        lines.append("- no focus session running; start one with /focus 25")
    else:
        text, _ = live.render(status.running, now)
        lines.append("- running now:\n" + text)
    return "\n".join(lines)


@router.command(
    "focus",
    usage="/focus [minutes] [break] [#subject]",
    summary="a focus (pomodoro) timer: alone in a direct chat, or with the room in a group",
    area="rooms",
    params=(
        Param(
            "minutes",
            "minutes of focus (default 25)",
            INTEGER,
            min_value=1,
            max_value=service.MAX_FOCUS_MINUTES,
            default=str(service.DEFAULT_FOCUS_MINUTES),
        ),
        Param(
            "break",
            "minutes of break after it (default 5)",
            INTEGER,
            min_value=0,
            max_value=service.MAX_BREAK_MINUTES,
        ),
        Param("subject", "what you study, e.g. #chem (shown per subject in /stats)", prefix="#"),
    ),
)
async def focus(ctx: Ctx, args: str) -> Reply:
    if ctx.room is None:
        return await study_commands.solo_focus(ctx, args)
    await _note_admin(ctx, ask=False)
    minutes, pause, subject = study_commands.parse_focus(args)
    now = ctx.clock.now()
    started = await service.start_focus(
        ctx.session,
        _room(ctx),
        ctx.user,
        focus_minutes=minutes,
        break_minutes=pause,
        now=now,
        subject=subject,
    )
    return await _live_reply(ctx, started, "focus.started")


async def _live_reply(ctx: Ctx, focus: FocusSession, kind: str) -> Reply:
    """The live message as a reply here; a linked room's other chats get it through the
    outbox, and every chat's live message through the room events."""
    now = ctx.clock.now()
    await ctx.session.flush()
    view = await service.focus_view(ctx.session, focus, ctx.room)
    chats = await linking.chats(ctx.session, _room(ctx))
    live.publish_after_commit(ctx.session, ctx.services, live.chat_events(kind, view, now, chats))
    if len(chats) > 1:
        here = await link_commands.own_chat(ctx)
        await live.queue_elsewhere(ctx.session, view, now, chats=chats, except_chat_id=here.id)
    return live.reply(view, now)


def _focus_id(payload: str) -> int:
    if not payload.isdigit():
        raise BadInput("That button has expired. Try /focus again.")
    return int(payload)


@router.action("rooms.join")
async def join(ctx: Ctx, payload: str) -> Reply:
    if ctx.room is None:
        raise BadInput("Focus sessions run in group chats.")
    focus = await service.join_focus(
        ctx.session, ctx.room, ctx.user, _focus_id(payload), ctx.clock.now()
    )
    return await _live_reply(ctx, focus, "focus.joined")


@router.action("rooms.leave")
async def leave(ctx: Ctx, payload: str) -> Reply:
    if ctx.room is None:
        raise BadInput("Focus sessions run in group chats.")
    focus = await service.leave_focus(
        ctx.session, ctx.room, ctx.user, _focus_id(payload), ctx.clock.now()
    )
    return await _live_reply(ctx, focus, "focus.left")


@router.action("rooms.stop")
async def stop(ctx: Ctx, payload: str) -> Reply:
    if ctx.room is None:
        raise BadInput("Focus sessions run in group chats.")
    await _note_admin(ctx, ask=True)
    focus = await service.stop_focus(
        ctx.session, ctx.room, ctx.user, _focus_id(payload), ctx.clock.now()
    )
    return await _live_reply(ctx, focus, "focus.ended")


@router.command(
    "leaderboard",
    usage="/leaderboard [week|month]",
    summary="focus time ranking of the room's members",
    area="rooms",
    rooms_only=True,
    params=(
        Param("period", "this week (default) or this month", CHOICE, choices=("week", "month")),
    ),
)
async def leaderboard(ctx: Ctx, args: str) -> Reply:
    period = args.strip().lower() or "week"
    ranking = await service.leaderboard(ctx.session, _room(ctx), ctx.user, period, ctx.clock.now())
    heading = f"**Leaderboard · this {period}**"
    if not ranking:
        return Reply.text(f"{heading}\nNo focus time yet. Start a session with /focus 25.")
    medals = ["🥇", "🥈", "🥉"]
    lines = [
        f"{medals[i] if i < 3 else f'{i + 1}.'} {escape(name)}: {_hours(minutes)}"
        for i, (name, minutes) in enumerate(ranking)
    ]
    return Reply.text(heading + "\n" + "\n".join(lines))


def _hours(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
