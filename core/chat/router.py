"""Maps slash commands and button actions to handlers, and keeps the command help."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from core.chat.context import Ctx
from core.chat.messages import Reply

_T = TypeVar("_T")

HandlerResult = Reply | list[Reply] | None
Handler = Callable[[Ctx, str], Awaitable[HandlerResult]]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    handler: Handler
    usage: str
    summary: str
    area: str
    aliases: tuple[str, ...] = ()
    rooms_only: bool = False


class Router:
    """Register handlers with decorators; `include` merges a capability's router."""

    def __init__(self) -> None:
        self.commands: dict[str, CommandSpec] = {}
        self.actions: dict[str, Handler] = {}
        self.text_handler: Handler | None = None
        self.file_handler: Handler | None = None

    def command(
        self,
        name: str,
        *,
        usage: str,
        summary: str,
        area: str,
        aliases: tuple[str, ...] = (),
        rooms_only: bool = False,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            spec = CommandSpec(name, handler, usage, summary, area, aliases, rooms_only)
            for key in (name, *aliases):
                self._claim(self.commands, key, spec)
            return handler

        return register

    def action(self, name: str) -> Callable[[Handler], Handler]:
        """Register a button action. Action ids look like `name:payload`."""
        if ":" in name:
            raise ValueError("action names cannot contain ':'")

        def register(handler: Handler) -> Handler:
            self._claim(self.actions, name, handler)
            return handler

        return register

    def on_text(self, handler: Handler) -> Handler:
        self.text_handler = handler
        return handler

    def on_file(self, handler: Handler) -> Handler:
        self.file_handler = handler
        return handler

    def include(self, other: Router) -> None:
        for key, spec in other.commands.items():
            self._claim(self.commands, key, spec)
        for key, handler in other.actions.items():
            self._claim(self.actions, key, handler)
        self.text_handler = other.text_handler or self.text_handler
        self.file_handler = other.file_handler or self.file_handler

    def specs(self) -> list[CommandSpec]:
        """Each command once, in registration order."""
        seen: dict[str, CommandSpec] = {}
        for spec in self.commands.values():
            seen.setdefault(spec.name, spec)
        return list(seen.values())

    @staticmethod
    def _claim(table: dict[str, _T], key: str, value: _T) -> None:
        existing = table.get(key)
        if existing is not None and existing is not value:
            raise ValueError(f"{key!r} is registered twice")
        table[key] = value


def action_id(name: str, *payload: object) -> str:
    """Build a button action id: `name:p1:p2`."""
    return ":".join([name, *(str(p) for p in payload)])


def parse_command(text: str) -> tuple[str, str] | None:
    """`/Task@TeddyBot buy milk` -> ("task", "buy milk"); None when not a command."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, rest = stripped[1:].partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = more + (" " + rest if rest else "")
    name = head.split("@", 1)[0].lower()
    if not name or not name.replace("_", "").isalnum():
        return None
    return name, rest.strip()
