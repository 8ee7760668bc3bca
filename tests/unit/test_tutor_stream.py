"""The live answer sends on the first token and then edits at most once per interval."""

from __future__ import annotations

from typing import Any

from core.chat.messages import Reply
from core.tutor.commands import LiveAnswer


class Emitted:
    def __init__(self) -> None:
        self.replies: list[Reply] = []

    async def __call__(self, reply: Reply) -> None:
        self.replies.append(reply)


class FakeCtx:
    def __init__(self) -> None:
        self.emit = Emitted()


async def test_live_answer_throttles_edits_to_the_interval() -> None:
    ctx: Any = FakeCtx()
    now = [0.0]
    live = LiveAnswer(ctx, "live-1", 1.0, monotonic=lambda: now[0])
    for _ in range(30):  # 30 tokens over 3 s
        await live.push("x ")
        now[0] += 0.1
    emitted = ctx.emit.replies
    assert len(emitted) == 3
    assert emitted[0].plain_text().strip() == "x"
    assert {r.live_id for r in emitted} == {"live-1"}
    assert live.final("x " * 30).live_id == "live-1"


async def test_live_answer_escapes_model_markup() -> None:
    ctx: Any = FakeCtx()
    live = LiveAnswer(ctx, "l", 1.0, monotonic=lambda: 0.0)
    await live.push("a_b*c")
    assert ctx.emit.replies[0].plain_text() == "a_b*c"
