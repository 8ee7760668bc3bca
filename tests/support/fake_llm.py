"""A local OpenAI-compatible server for tests and benchmarks: `/v1/chat/completions`
(plain JSON and `stream=true` server-sent events, with tool calls) and `/v1/embeddings`.

Tests script it: `fake.replies.append(FakeReply(...))` (or a function of the request),
`fake.fail(500)`, `fake.fail(429)`, `fake.stall(seconds)`. Every request body is kept in
`fake.requests` so a test can check what Teddy sent."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeReply:
    """A scripted model turn. A tool call's arguments are a dict (sent as JSON) or a
    string sent verbatim, so a test can play a model that writes broken JSON."""

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)


def arguments_text(args: dict[str, Any] | str) -> str:
    return args if isinstance(args, str) else json.dumps(args)


Responder = Callable[[dict[str, Any]], FakeReply]


def echo(request: dict[str, Any]) -> FakeReply:
    """The default: answer with the last user message, so a test can see what arrived."""
    users = [m for m in request["messages"] if m.get("role") == "user"]
    last = users[-1]["content"] if users else ""
    return FakeReply(f"You said: {content_text(last)}")


def _has_image(body: dict[str, Any]) -> bool:
    return any(
        isinstance(m.get("content"), list)
        and any(p.get("type") == "image_url" for p in m["content"])
        for m in body["messages"]
    )


def content_text(content: str | list[dict[str, Any]]) -> str:
    """A message's text; a vision message's parts with each picture as `[image]`."""
    if isinstance(content, str):
        return content
    return " ".join(p["text"] if p.get("type") == "text" else "[image]" for p in content)


@dataclass
class FakeLLM:
    port: int = 0
    replies: list[FakeReply | Responder] = field(default_factory=list)
    default: Responder = echo
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: list[tuple[str, float]] = field(default_factory=list)
    chunk_delay: float = 0.0
    embedding_dim: int = 384
    # Seconds from receiving each streamed request to writing its first text chunk: the
    # provider's own share of time-to-first-token, for the benchmark.
    first_chunk_delays: list[float] = field(default_factory=list)
    host: str = "127.0.0.1"  # the address it listens on
    # False: a text-only model, answering 400 to a message with a picture, as they do.
    vision: bool = True
    _runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def fail(self, status: int, times: int = 1) -> None:
        self.faults.extend([("status", float(status))] * times)

    def stall(self, seconds: float) -> None:
        self.faults.append(("stall", seconds))

    def reset(self) -> None:
        self.replies.clear()
        self.requests.clear()
        self.faults.clear()
        self.default = echo
        self.chunk_delay = 0.0
        self.vision = True

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if "messages" in r]

    async def start(self) -> FakeLLM:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _fault(self) -> web.Response | None:
        if not self.faults:
            return None
        kind, value = self.faults.pop(0)
        if kind == "stall":
            await asyncio.sleep(value)
            return None
        status = int(value)
        headers = {"retry-after": "0"} if status == 429 else {}
        error = {"error": {"message": f"fake error {status}", "type": "server_error"}}
        return web.json_response(error, status=status, headers=headers)

    def _next_reply(self, body: dict[str, Any]) -> FakeReply:
        item = self.replies.pop(0) if self.replies else self.default
        return item if isinstance(item, FakeReply) else item(body)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        received = time.perf_counter()
        body = await request.json()
        self.requests.append(body)
        fault = await self._fault()
        if fault is not None:
            return fault
        if request.transport is None or request.transport.is_closing():
            # The client gave up during a stall: keep the scripted reply for the next call.
            return web.Response(status=499)
        if not self.vision and _has_image(body):
            error = {"error": {"message": "image input is not supported", "type": "invalid"}}
            return web.json_response(error, status=400)
        reply = self._next_reply(body)
        usage = {
            "prompt_tokens": sum(len(str(m.get("content") or "")) for m in body["messages"]) // 4,
            "completion_tokens": len(reply.text) // 4 + 1,
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if body.get("stream"):
            return await self._stream(request, body, reply, usage, received)
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{i}",
                    "type": "function",
                    "function": {"name": name, "arguments": arguments_text(args)},
                }
                for i, (name, args) in enumerate(reply.tool_calls)
            ]
        finish = "tool_calls" if reply.tool_calls else "stop"
        return web.json_response(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": usage,
            }
        )

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        reply: FakeReply,
        usage: dict[str, int],
        received: float,
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        model = body.get("model", "fake")

        async def send(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> None:
            chunk = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                **extra,
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

        await send({"role": "assistant", "content": ""})
        for i, piece in enumerate(_pieces(reply.text)):
            if i and self.chunk_delay:
                await asyncio.sleep(self.chunk_delay)
            await send({"content": piece})
            if i == 0:
                self.first_chunk_delays.append(time.perf_counter() - received)
        for i, (name, args) in enumerate(reply.tool_calls):
            call = {
                "index": i,
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            await send({"tool_calls": [call]})
            text = arguments_text(args)
            half = len(text) // 2
            for part in (text[:half], text[half:]):
                await send({"tool_calls": [{"index": i, "function": {"arguments": part}}]})
        await send({}, "tool_calls" if reply.tool_calls else "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            chunk = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [],
                "usage": usage,
            }
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(body)
        fault = await self._fault()
        if fault is not None:
            return fault
        dim = self.embedding_dim
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": hashed_vector(str(t), dim)}
            for i, t in enumerate(inputs)
        ]
        tokens = sum(len(str(t)) for t in inputs) // 4
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model", "fake"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )


def _pieces(text: str) -> list[str]:
    """Split like a tokenizer would: words with their leading space."""
    out: list[str] = []
    for i, word in enumerate(text.split(" ")):
        out.append(word if i == 0 else " " + word)
    return [p for p in out if p]


def hashed_vector(text: str, dim: int) -> list[float]:
    """A deterministic bag-of-words vector: texts sharing words point the same way."""
    vec = [0.0] * dim
    for word in text.lower().split():
        digest = hashlib.sha256(word.strip(".,;:!?").encode()).digest()
        vec[int.from_bytes(digest[:4], "big") % dim] += 1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


class FakeLLMThread:
    """Run a FakeLLM on its own event loop in a thread, so synchronous callers (a
    subprocess under test, a benchmark) and async tests can all reach it."""

    def __init__(self) -> None:
        import threading

        self.fake = FakeLLM()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self.fake.start())
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        self._ready.wait(10)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
