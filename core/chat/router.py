"""Maps slash commands and button actions to handlers, and keeps the command help."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.context import Ctx
from core.chat.messages import Reply

if TYPE_CHECKING:
    from core.identity.models import Room, User

_T = TypeVar("_T")

HandlerResult = Reply | list[Reply] | None
Handler = Callable[[Ctx, str], Awaitable[HandlerResult]]

TEXT = "text"
INTEGER = "integer"
CHOICE = "choice"
PARAM_KINDS = (TEXT, INTEGER, CHOICE)
PARAM_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_PARAM_DESCRIPTION = 100
MAX_SUGGESTIONS = 25


class Suggestion(NamedTuple):
    """One value offered while a person types an argument: what they see, what is sent."""

    label: str
    value: str


# (session, acting user, room or None, what has been typed so far) -> suggestions
SuggestionSource = Callable[[AsyncSession, "User", "Room | None", str], Awaitable[list[Suggestion]]]


@dataclass(frozen=True)
class Param:
    """One argument of a command, for platforms that show typed command options (Discord's
    slash command options). The values a platform collects are joined back, in declaration
    order, into the command's text, so the handler parses them exactly like typed text.

    `suggest` names a suggestion source (see `Router.suggestions`) offered while typing;
    `prefix` is written before the value when joined (`#` for a subject, `| ` for a
    card's back) unless the value already starts with it; `default` fills the place of a
    positional argument left out when a later one is given (`/focus` with a break only)."""

    name: str
    description: str
    kind: str = TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    suggest: str | None = None
    prefix: str = ""
    min_value: int | None = None
    max_value: int | None = None
    default: str | None = None

    def __post_init__(self) -> None:
        if not PARAM_NAME.match(self.name):
            raise ValueError(f"parameter name {self.name!r}: 1-32 lowercase letters, digits, _")
        if not 0 < len(self.description) <= MAX_PARAM_DESCRIPTION:
            raise ValueError(f"parameter {self.name!r}: description of 1-100 characters")
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"parameter {self.name!r}: kind is one of {PARAM_KINDS}")
        if (self.kind == CHOICE) != bool(self.choices):
            raise ValueError(f"parameter {self.name!r}: choices go with kind 'choice' only")

    def joined(self, value: object) -> str:
        text = " ".join(str(value).split())
        if not text:
            return ""
        if self.prefix and not text.startswith(self.prefix):
            return self.prefix + text
        return text


@dataclass(frozen=True)
class CommandSpec:
    name: str
    handler: Handler
    usage: str
    summary: str
    area: str
    aliases: tuple[str, ...] = ()
    rooms_only: bool = False
    params: tuple[Param, ...] = ()

    def text_for(self, values: Mapping[str, object]) -> str:
        """The command as typed text from its parameters' values (missing ones left out)."""
        words: list[str] = []
        for index, param in enumerate(self.params):
            value = values.get(param.name)
            later = any(values.get(p.name) is not None for p in self.params[index + 1 :])
            if value is None and later and param.default is not None:
                value = param.default
            words.append(param.joined(value) if value is not None else "")
        return " ".join([f"/{self.name}", *(w for w in words if w)])


class Router:
    """Register handlers with decorators; `include` merges a capability's router."""

    def __init__(self) -> None:
        self.commands: dict[str, CommandSpec] = {}
        self.actions: dict[str, Handler] = {}
        self.text_handler: Handler | None = None
        self.file_handler: Handler | None = None
        # Pictures (every attachment an image) addressed to the bot; others go to files.
        self.photo_handler: Handler | None = None
        self.sources: dict[str, SuggestionSource] = {}

    def command(
        self,
        name: str,
        *,
        usage: str,
        summary: str,
        area: str,
        aliases: tuple[str, ...] = (),
        rooms_only: bool = False,
        params: tuple[Param, ...] = (),
    ) -> Callable[[Handler], Handler]:
        if len({p.name for p in params}) != len(params):
            raise ValueError(f"/{name}: parameter names repeat")

        def register(handler: Handler) -> Handler:
            spec = CommandSpec(name, handler, usage, summary, area, aliases, rooms_only, params)
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

    def suggestions(self, name: str) -> Callable[[SuggestionSource], SuggestionSource]:
        """Register what a parameter with `suggest=name` offers while the person types."""

        def register(source: SuggestionSource) -> SuggestionSource:
            self._claim(self.sources, name, source)
            return source

        return register

    def on_text(self, handler: Handler) -> Handler:
        self.text_handler = handler
        return handler

    def on_file(self, handler: Handler) -> Handler:
        self.file_handler = handler
        return handler

    def on_photo(self, handler: Handler) -> Handler:
        self.photo_handler = handler
        return handler

    def include(self, other: Router) -> None:
        for key, spec in other.commands.items():
            self._claim(self.commands, key, spec)
        for key, handler in other.actions.items():
            self._claim(self.actions, key, handler)
        for key, source in other.sources.items():
            self._claim(self.sources, key, source)
        self.text_handler = other.text_handler or self.text_handler
        self.file_handler = other.file_handler or self.file_handler
        self.photo_handler = other.photo_handler or self.photo_handler

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


INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
_ASCII_NUMBER = re.compile(r"[0-9]{1,19}")


def parse_number(text: str, maximum: int = INT64_MAX) -> int | None:
    """A non-negative whole number written in ASCII digits, at most `maximum` (the
    column's range: BIGINT ids by default); None for anything else. `str.isdigit` also
    accepts "²" and "١", and `int` takes numbers no column holds."""
    if _ASCII_NUMBER.fullmatch(text) is None:
        return None
    value = int(text)
    return value if value <= maximum else None


def action_numbers(payload: str, count: int, maximum: int = INT64_MAX) -> list[int] | None:
    """Exactly `count` numbers separated by ':' (see `parse_number`); None otherwise."""
    parts = payload.split(":")
    numbers = [parse_number(p, maximum) for p in parts]
    if len(parts) != count or None in numbers:
        return None
    return [n for n in numbers if n is not None]


def forged_number(payload: str) -> bool:
    """A part of an action payload made only of digits that no button of ours would carry:
    non-ASCII digits, or a number beyond a BIGINT. Every number we put in an action id is
    a bounded ASCII one; free text (a #subject) never consists of digits alone."""
    return any(p.isdigit() and parse_number(p) is None for p in payload.split(":"))


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
