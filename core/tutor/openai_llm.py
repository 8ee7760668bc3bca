"""The LLM port on the official `openai` SDK, for any OpenAI-compatible endpoint
(OpenAI, Ollama, vLLM, llama.cpp server, DeepSeek, OpenRouter).

Retries are ours, not the SDK's (`max_retries=0`): 429 and 5xx are retried with
exponential backoff (honouring Retry-After) only before the first token, so a student
never sees an answer start twice. A stall is caught per chunk, not per request, so a
slow but steady stream is not cut off."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from core.settings import Settings
from core.tutor.llm import Completion, LLMError, LLMTimeout, Message, ToolCall, ToolSpec

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)
_T = TypeVar("_T")

DOWN = "The AI model is not answering right now (the provider returned an error)."
TIMED_OUT = "The AI model took too long to answer (no reply within {seconds:g} s)."
RATE_LIMITED = "The AI provider is busy (rate limited)."


def llm_from_settings(settings: Settings) -> OpenAILLM | None:
    """The configured model, or None when no provider is set (offline mode)."""
    if not settings.llm_base_url or not settings.llm_model:
        return None
    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    return OpenAILLM(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        api_key=key,
        timeout=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
        retry_base=settings.llm_retry_base_seconds,
    )


class OpenAILLM:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str = "not-needed",
        timeout: float = 30.0,
        max_retries: int = 3,
        retry_base: float = 0.5,
    ) -> None:
        self._model = model
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_base = retry_base
        self._base_url = base_url
        self._api_key = api_key
        self._client: openai.AsyncOpenAI | None = None

    @property
    def client(self) -> openai.AsyncOpenAI:
        """The SDK's client, made on the first call to the model: importing the SDK takes
        over half a second of CPU, which every process start paid (the tutor's ports are
        built at start) although most never ask the model anything before their first answer."""
        if self._client is None:
            from openai import AsyncOpenAI

            self._client = AsyncOpenAI(
                base_url=self._base_url,
                api_key=self._api_key,
                timeout=self.timeout + 5,
                max_retries=0,
            )
        return self._client

    @property
    def model(self) -> str:
        return self._model

    async def stream(
        self, messages: Sequence[Message], *, tools: Sequence[ToolSpec] = ()
    ) -> AsyncIterator[str | Completion]:
        import openai

        params = _params(self._model, messages, tools)
        params.update(stream=True, stream_options={"include_usage": True})
        response = await self._with_retries(lambda: self.client.chat.completions.create(**params))
        result = Completion()
        calls: dict[int, dict[str, str]] = {}
        chunks = response.__aiter__()
        while True:
            try:
                chunk = await asyncio.wait_for(chunks.__anext__(), self.timeout)
            except StopAsyncIteration:
                break
            except TimeoutError:
                await response.close()
                raise LLMTimeout(TIMED_OUT.format(seconds=self.timeout)) from None
            except openai.APIError as err:
                raise LLMError(DOWN) from err
            if chunk.usage is not None:
                result.tokens_in = chunk.usage.prompt_tokens
                result.tokens_out = chunk.usage.completion_tokens
            for choice in chunk.choices:
                delta = choice.delta
                if delta.content:
                    result.text += delta.content
                    yield delta.content
                for tc in delta.tool_calls or ():
                    slot = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                    if tc.id:
                        slot["id"] = tc.id
                    if tc.function is not None:
                        slot["name"] += tc.function.name or ""
                        slot["arguments"] += tc.function.arguments or ""
        result.tool_calls = [
            ToolCall(c["id"] or f"call_{i}", c["name"], c["arguments"])
            for i, c in sorted(calls.items())
        ]
        yield result

    async def complete(self, messages: Sequence[Message], *, json_mode: bool = False) -> Completion:
        params = _params(self._model, messages, ())
        if json_mode:
            params["response_format"] = {"type": "json_object"}
        response = await self._with_retries(lambda: self.client.chat.completions.create(**params))
        message = response.choices[0].message if response.choices else None
        usage = response.usage
        return Completion(
            text=(message.content or "") if message else "",
            tokens_in=usage.prompt_tokens if usage else 0,
            tokens_out=usage.completion_tokens if usage else 0,
        )

    async def _with_retries(self, call: Callable[[], Awaitable[_T]]) -> _T:
        import openai

        attempt = 0
        while True:
            try:
                return await asyncio.wait_for(call(), self.timeout)
            except TimeoutError:
                raise LLMTimeout(TIMED_OUT.format(seconds=self.timeout)) from None
            except openai.APITimeoutError as err:
                raise LLMTimeout(TIMED_OUT.format(seconds=self.timeout)) from err
            except openai.APIStatusError as err:
                retryable = err.status_code == 429 or err.status_code >= 500
                if not retryable or attempt >= self.max_retries:
                    message = RATE_LIMITED if err.status_code == 429 else DOWN
                    raise LLMError(message) from err
                delay = _retry_after(err) or self.retry_base * 2**attempt
                log.warning("LLM status %s; retry %d in %.2fs", err.status_code, attempt + 1, delay)
            except openai.APIConnectionError as err:
                if attempt >= self.max_retries:
                    raise LLMError(DOWN) from err
                delay = self.retry_base * 2**attempt
                log.warning("LLM unreachable; retry %d in %.2fs", attempt + 1, delay)
            attempt += 1
            await asyncio.sleep(delay * (1 + random.random() / 4))


def _retry_after(err: openai.APIStatusError) -> float | None:
    value = err.response.headers.get("retry-after")
    try:
        return min(float(value), 30.0) if value else None
    except ValueError:
        return None


def _params(model: str, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """Messages and tools are plain JSON already, so they go in `extra_body`: the SDK's
    per-call type transform of them cost 17-23 ms a request (bench/tutor_bench.py), more
    than everything else Teddy does before the first token."""
    body: dict[str, Any] = {"messages": list(messages)}
    if tools:
        body["tools"] = [_tool_param(t) for t in tools]
    return {"model": model, "messages": [], "extra_body": body}


def _tool_param(tool: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }
