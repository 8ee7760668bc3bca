"""Tutor benchmark: time to first streamed token added by Teddy itself (excluding the
provider), and memory assembly time for a 500-exchange (1,000-message) conversation.

    python -m bench.tutor_bench            # 40 streamed turns, 200 memory assemblies
    python -m bench.tutor_bench --turns 200 --assemblies 1000

Runs the whole core (dispatcher, identity, Redis rate limit, PostgreSQL, the real `openai`
client) against the local OpenAI-compatible server from tests/support on embedded
servers in a temporary directory. The provider's share of each first token is measured
inside that server (request received -> first chunk written) and subtracted."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from openai import AsyncOpenAI
from sqlalchemy import insert, text

from core.chat.messages import Conversation, Incoming, Reply, Sender
from core.settings import Settings
from core.tutor import prompts
from core.tutor.conversation import active_conversation, load_memory
from core.tutor.memory import Turn, assemble, turn_tokens
from core.tutor.models import TutorConversation, TutorMessage
from core.tutor.openai_llm import OpenAILLM
from core.tutor.service import TutorPorts
from teddy.runtime import Runtime, open_runtime
from tests.support.fake_llm import FakeLLM, FakeLLMThread, FakeReply

ANSWER = " ".join(["Mitochondria", "make", "ATP", "by", "oxidative", "phosphorylation."] * 4)


def ms(samples: list[float]) -> str:
    values = sorted(s * 1000 for s in samples)
    p50 = statistics.median(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"n={len(values):>5}  p50={p50:8.2f} ms  p95={p95:8.2f} ms"


async def select_one(core: Runtime, count: int = 300) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        async with core.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        samples.append(time.perf_counter() - start)
    return samples


async def bare_sdk_first_token(fake: FakeLLM, count: int) -> list[float]:
    """The openai client alone, straight to the server: its first chunk minus the
    server's own time. What any Python caller pays; the floor for Teddy."""
    client = AsyncOpenAI(base_url=fake.base_url, api_key="x", max_retries=0)
    samples = []
    for _ in range(count):
        fake.replies.append(FakeReply(ANSWER))
        before = len(fake.first_chunk_delays)
        start = time.perf_counter()
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        first = None
        async for chunk in stream:
            if first is None and chunk.choices and chunk.choices[0].delta.content:
                first = time.perf_counter()
        assert first is not None
        samples.append(first - start - fake.first_chunk_delays[before])
    await client.close()
    return samples


async def teddy_first_token(core: Runtime, fake: FakeLLM, user: str, count: int) -> list[float]:
    """Incoming text -> first live message emitted, minus the server's own time."""
    samples = []
    sender = Sender("bench", user, user)
    chat = Conversation("bench", f"dm-{user}", True)
    for _ in range(count):
        fake.replies.append(FakeReply(ANSWER))
        before = len(fake.first_chunk_delays)
        first: list[float] = []

        async def emit(reply: Reply, first: list[float] = first) -> None:
            if not first and reply.live_id:
                first.append(time.perf_counter())

        start = time.perf_counter()
        await core.dispatcher.handle(Incoming(sender, chat, text="why ATP?"), emit)
        samples.append(first[0] - start - fake.first_chunk_delays[before])
    return samples


async def seed_conversation(core: Runtime, user: str, exchanges: int) -> int:
    """A conversation of `exchanges` question/answer pairs for the bench user."""
    await core.dispatcher.handle(
        Incoming(Sender("bench", user, user), Conversation("bench", f"dm-{user}", True), "/start")
    )
    async with core.db.transaction() as session:
        user_id = await session.scalar(
            text("SELECT user_id FROM identities WHERE external_id = :u"), {"u": user}
        )
        from core.identity.models import User

        owner = await session.get(User, user_id)
        assert owner is not None
        now = core.services.clock.now()
        conv = await active_conversation(session, owner, None, f"bench:dm-{user}", now)
        rows = []
        for i in range(exchanges):
            question = f"Question {i}: how does step {i} of the Krebs cycle work exactly?"
            answer = f"Answer {i}: " + "the enzyme converts one intermediate into the next. " * 4
            for role, content in (("user", question), ("assistant", answer)):
                rows.append(
                    {
                        "conversation_id": conv.id,
                        "role": role,
                        "content": content,
                        "tokens": turn_tokens(content),
                        "created_at": now,
                    }
                )
        await session.execute(insert(TutorMessage), rows)
        return conv.id


async def memory_assembly(
    core: Runtime, conversation_id: int, count: int
) -> tuple[list[float], list[float]]:
    budget = core.settings.tutor_memory_token_budget
    with_db, pure = [], []
    async with core.db.transaction() as session:
        conv = await session.get(TutorConversation, conversation_id)
        assert conv is not None
        for _ in range(count):
            start = time.perf_counter()
            memory = await load_memory(session, conv, prompts.TUTOR, budget)
            with_db.append(time.perf_counter() - start)
        rows = await session.execute(
            text(
                "SELECT id, role, content, tokens FROM tutor_messages "
                "WHERE conversation_id = :c ORDER BY id DESC"
            ),
            {"c": conversation_id},
        )
        turns = [Turn(r.id, r.role, r.content, r.tokens) for r in rows]
    for _ in range(count):
        start = time.perf_counter()
        assemble(prompts.TUTOR, conv.summary, turns, budget)
        pure.append(time.perf_counter() - start)
    print(
        f"  memory window: {len(memory.messages) - 1} recent messages, {memory.tokens} tokens "
        f"of {budget}; {memory.pending_tokens} tokens of older turns to summarise"
    )
    return with_db, pure


async def main(turns: int, assemblies: int) -> None:
    with tempfile.TemporaryDirectory(prefix="teddy-bench-") as home, FakeLLMThread() as fake:
        settings = Settings(
            teddy_home=Path(home),
            tutor_requests_per_minute=0,
            tutor_daily_token_budget=0,
            _env_file=None,
        )
        async with open_runtime(settings) as core:
            llm = OpenAILLM(base_url=fake.base_url, model="fake", max_retries=0)
            core.services.tutor = TutorPorts(llm, core.services.redis)
            print("reference")
            print(f"  SELECT 1 round trip              {ms(await select_one(core))}")
            await bare_sdk_first_token(fake, 5)  # warm up
            print(
                f"  openai SDK alone, first token    {ms(await bare_sdk_first_token(fake, turns))}"
            )
            print("time to first streamed token added by Teddy (provider time excluded)")
            await teddy_first_token(core, fake, "warm", 3)
            fresh = await teddy_first_token(core, fake, "short", turns)
            print(f"  conversation growing 0-{turns} exch.  {ms(fresh)}")
            await seed_conversation(core, "long", 500)
            long = await teddy_first_token(core, fake, "long", max(turns // 2, 10))
            print(f"  500-exchange conversation        {ms(long)}")
            print("memory assembly, 500 exchanges (1,000 messages), default budget")
            conv_id = await seed_conversation(core, "memory", 500)
            with_db, pure = await memory_assembly(core, conv_id, assemblies)
            print(f"  load + assemble (PostgreSQL)     {ms(with_db)}")
            print(f"  assemble only (in memory)        {ms(pure)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--assemblies", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.assemblies))
