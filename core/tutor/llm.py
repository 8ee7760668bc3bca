"""The LLM port: what the tutor needs from a chat model, free of any SDK.

Messages use the OpenAI chat format (a list of dicts with `role` and `content`, plus
`tool_calls` / `tool_call_id`), since every provider we support speaks it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.errors import ServiceUnavailable

Message = dict[str, Any]


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call; `parameters` is a JSON schema object."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text as the model wrote it; may be invalid


@dataclass
class Completion:
    """A finished model turn: text and/or tool calls, with the provider's token counts."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0


class LLMError(ServiceUnavailable):
    """The provider failed after retries; the message is meant for the student."""


class LLMTimeout(LLMError):
    """The provider stopped answering within the configured timeout."""


class LLM(Protocol):
    """A chat model. `stream` yields text deltas as they arrive and, last, the whole
    `Completion`; both raise `LLMError` when the provider is down."""

    @property
    def model(self) -> str: ...

    def stream(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = ()
    ) -> AsyncIterator[str | Completion]: ...

    async def complete(
        self, messages: Sequence[Message], *, json_mode: bool = False
    ) -> Completion: ...
