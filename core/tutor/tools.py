"""Tools the model may call on the student's behalf. Each runs through the owning
capability's service with the acting user's scope, inside a savepoint so a failed tool
leaves nothing half-done. There is deliberately no tool that deletes anything."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.context import Services
from core.errors import TeddyError
from core.identity.models import Room, User
from core.tutor.llm import ToolCall, ToolSpec

log = logging.getLogger(__name__)


@dataclass
class ToolContext:
    session: AsyncSession
    user: User
    room: Room | None
    services: Services


ToolRun = Callable[[ToolContext, dict[str, Any]], Awaitable[str]]


@dataclass(frozen=True)
class Tool:
    spec: ToolSpec
    run: ToolRun


TOOLS: dict[str, Tool] = {}


def tool(name: str, description: str, parameters: dict[str, Any]) -> Callable[[ToolRun], ToolRun]:
    def register(run: ToolRun) -> ToolRun:
        TOOLS[name] = Tool(ToolSpec(name, description, parameters), run)
        return run

    return register


def specs() -> list[ToolSpec]:
    return [t.spec for t in TOOLS.values()]


async def run_tool(tc: ToolContext, call: ToolCall) -> str:
    """The tool's result as text for the model; failures are reported, not raised."""
    found = TOOLS.get(call.name)
    if found is None:
        log.warning("model asked for unknown tool %r", call.name)
        return f"error: there is no tool named {call.name!r}; nothing was done"
    try:
        args = json.loads(call.arguments or "{}")
    except json.JSONDecodeError:
        return "error: the arguments were not valid JSON; nothing was done"
    if not isinstance(args, dict):
        return "error: the arguments must be a JSON object; nothing was done"
    try:
        async with tc.session.begin_nested():
            return await found.run(tc, args)
    except TeddyError as err:
        return f"error: {err.message}"
