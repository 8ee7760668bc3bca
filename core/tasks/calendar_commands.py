"""/calendar: the private iCalendar feed URL of a user's tasks, and replacing it."""

from __future__ import annotations

from core.chat import Ctx, Reply, Router
from core.chat.router import CHOICE, Param
from core.errors import BadInput
from core.tasks import service

router = Router()


@router.command(
    "calendar",
    usage="/calendar [reset]",
    summary="a private iCalendar feed URL of your tasks",
    area="tasks",
    params=(
        Param("action", "reset: a new URL (the old one stops working)", CHOICE, choices=("reset",)),
    ),
)
async def calendar_cmd(ctx: Ctx, args: str) -> Reply:
    arg = args.strip().lower()
    if arg not in ("", "reset"):
        raise BadInput("`/calendar` shows your feed URL; `/calendar reset` replaces it.")
    token = await service.calendar_token(
        ctx.session, ctx.user.id, now=ctx.clock.now(), reset=arg == "reset"
    )
    url = service.calendar_url(ctx.services.settings.public_base_url, token)
    intro = "New feed URL; the old one no longer works." if arg else "Your private calendar feed:"
    return Reply.text(
        f"{intro}\n{url}\n\nAdd it in Google Calendar (Other calendars → From URL) or Apple "
        "Calendar (New Calendar Subscription). Anyone with the URL sees your tasks: "
        "/calendar reset makes a new one.",
        private=True,
    )
