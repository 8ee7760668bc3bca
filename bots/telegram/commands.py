"""Telegram's command menu: the router's commands, published where the list differs."""

from __future__ import annotations

from typing import Any

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeDefault

from core.chat.router import CommandSpec, Router

MAX_COMMANDS = 100


async def register_commands(bot: Any, router: Router) -> None:
    """Publish the router's commands (direct chats: all but room-only ones; groups: all),
    only where the list Telegram has differs."""
    specs = [s for s in router.specs() if _valid_name(s.name)]
    lists = (
        (BotCommandScopeDefault(), [s for s in specs if not s.rooms_only]),
        (BotCommandScopeAllGroupChats(), specs),
    )
    for scope, chosen in lists:
        commands = [_bot_command(s) for s in chosen[:MAX_COMMANDS]]
        current = await bot.get_my_commands(scope=scope)
        if [(c.command, c.description) for c in current] != [
            (c.command, c.description) for c in commands
        ]:
            await bot.set_my_commands(commands, scope=scope)


def _valid_name(name: str) -> bool:
    return 1 <= len(name) <= 32 and all(c.isascii() and (c.isalnum() or c == "_") for c in name)


def _bot_command(spec: CommandSpec) -> BotCommand:
    description = (spec.summary or spec.usage).strip()[:256] or spec.name
    return BotCommand(spec.name.lower(), description)
