"""/start, /help and /settings."""

from __future__ import annotations

from collections import defaultdict

from core.analytics.rollup import follow_zone
from core.chat import Ctx, Reply, Router
from core.chat.markup import escape, shorten
from core.chat.router import CHOICE, CommandSpec, Param
from core.identity import service
from core.identity.service import user_zone

router = Router()

AREAS = {
    "everyone": "Everyone",
    "tasks": "Tasks and reminders",
    "cards": "Flashcards",
    "tutor": "Tutor and documents",
    "rooms": "Study rooms",
}
# Words people try for an area; one that is also a command shows that command first.
TOPIC_ALIASES = {
    **dict.fromkeys(("flashcards", "flashcard", "card", "deck", "decks", "review"), "cards"),
    **dict.fromkeys(("task", "todo", "todos", "reminders", "reminder", "remind"), "tasks"),
    **dict.fromkeys(("docs", "documents", "document", "files", "file", "ask", "search"), "tutor"),
    **dict.fromkeys(("room", "group", "groups", "focus"), "rooms"),
}


@router.command("start", usage="/start", summary="greeting and what Teddy can do", area="everyone")
async def start(ctx: Ctx, args: str) -> Reply:
    name = escape(ctx.user.display_name or "there")
    return Reply.text(
        f"Hi {name}! I'm **Study Teddy**, your study buddy.\n\n"
        "- jot tasks: /task Lab report fri 5pm #chem !high\n"
        "- review flashcards: /deck Biology, then /card front | back and /review\n"
        "- send me a PDF and /ask about it\n"
        "- study together in a group: /focus 25\n\n"
        f"Your time zone is {ctx.user.timezone}; change it with /settings tz Area/City. "
        "Send /help for every command."
    )


@router.command(
    "help",
    usage="/help [topic]",
    summary="every command, or help per area",
    area="everyone",
    params=(Param("topic", "an area (tasks, cards, tutor, rooms) or a command"),),
)
async def help_(ctx: Ctx, args: str) -> Reply:
    assert ctx.router is not None
    by_area: dict[str, list[CommandSpec]] = defaultdict(list)
    for spec in ctx.router.specs():
        by_area[spec.area].append(spec)
    topic = args.strip().lower().lstrip("/")
    if topic:
        if topic in by_area:
            return Reply.text(_area_help(topic, by_area[topic]))
        found = ctx.router.commands.get(topic)
        area = TOPIC_ALIASES.get(topic)
        if area in by_area:
            assert area is not None
            first = f"`{found.usage}`\n{escape(found.summary)}\n\n" if found else ""
            return Reply.text(first + _area_help(area, by_area[area]))
        if found is not None:
            return Reply.text(f"`{found.usage}`\n{escape(found.summary)}")
        topics = ", ".join(sorted(by_area))
        return Reply.text(
            f"No help on “{escape(shorten(topic))}”. Topics: {topics}; or /help <command>."
        )
    sections = [_area_help(area, specs) for area, specs in _ordered(by_area)]
    return Reply.text("\n\n".join(sections))


def _ordered(by_area: dict[str, list[CommandSpec]]) -> list[tuple[str, list[CommandSpec]]]:
    order = list(AREAS)
    return sorted(by_area.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)


def _area_help(area: str, specs: list[CommandSpec]) -> str:
    lines = [f"**{AREAS.get(area, area.title())}**"]
    for spec in specs:
        lines.append(f"- `{spec.usage}` {escape(spec.summary)}")
    return "\n".join(lines)


SETTINGS_USAGE = (
    "Change a setting with:\n"
    "- `/settings tz <Area/City>`\n"
    "- `/settings quiet <HH:MM-HH:MM|off>`\n"
    "- `/settings digest <HH:MM|off>`"
)


@router.command(
    "settings",
    usage="/settings [tz|quiet|digest] [value]",
    summary="your time zone, quiet hours and daily digest",
    area="everyone",
    params=(
        Param("setting", "the setting to change", CHOICE, choices=("tz", "quiet", "digest")),
        Param("value", "tz: Area/City; quiet: HH:MM-HH:MM or off; digest: HH:MM or off"),
    ),
)
async def settings(ctx: Ctx, args: str) -> Reply:
    key, _, value = args.strip().partition(" ")
    key = key.lower()
    user = ctx.user
    if not key:
        return Reply.text(_show_settings(ctx) + "\n\n" + SETTINGS_USAGE)
    if not value.strip():
        return Reply.text(f"/settings {escape(shorten(key))} needs a value.\n\n{SETTINGS_USAGE}")
    if key in ("tz", "timezone"):
        zone_before = user.timezone
        service.update_settings(user, timezone=value)
        await follow_zone(ctx.session, user, zone_before)
        return Reply.text(f"Time zone set to {user.timezone}. Reminders follow your local time.")
    if key == "quiet":
        service.update_settings(user, quiet=value)
        if user.quiet_start is None or user.quiet_end is None:
            return Reply.text("Quiet hours off: notifications can arrive at any time.")
        return Reply.text(
            f"Quiet hours {user.quiet_start:%H:%M}–{user.quiet_end:%H:%M}: "
            "I'll hold notifications until they end."
        )
    if key == "digest":
        service.update_settings(user, digest=value)
        if user.digest_time is None:
            return Reply.text("Daily digest off.")
        return Reply.text(f"Daily digest at {user.digest_time:%H:%M} your time.")
    return Reply.text(f"There is no setting “{escape(shorten(key))}”.\n\n{SETTINGS_USAGE}")


def _show_settings(ctx: Ctx) -> str:
    user = ctx.user
    local_now = ctx.clock.now().astimezone(user_zone(user))
    quiet = (
        f"{user.quiet_start:%H:%M}–{user.quiet_end:%H:%M}"
        if user.quiet_start is not None and user.quiet_end is not None
        else "off"
    )
    digest = f"{user.digest_time:%H:%M}" if user.digest_time else "off"
    return (
        "**Your settings**\n"
        f"- time zone: {user.timezone} (now {local_now:%a %d %b %H:%M})\n"
        f"- quiet hours: {quiet}\n"
        f"- daily digest: {digest}"
    )
