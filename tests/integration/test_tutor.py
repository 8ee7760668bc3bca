"""The tutor against a local OpenAI-compatible server, through the real `openai` client."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core.chat.messages import Reply
from core.clock import FixedClock
from core.tutor.models import TutorConversation, TutorMessage, TutorUsage
from teddy.runtime import Runtime
from tests.integration.tutor_fixtures import fake_llm, fake_llm_server, tutor_core, tutor_llm
from tests.support.chat_driver import ChatDriver
from tests.support.fake_llm import FakeLLM, FakeReply, echo

__all__ = ["fake_llm", "fake_llm_server", "tutor_core"]


def last_text(replies: list[Reply]) -> str:
    assert replies, "no reply"
    return replies[-1].plain_text()


def remembers_name(request: dict[str, Any]) -> FakeReply:
    """A model that can only answer 'what is my name' from what it was sent."""
    users = [m["content"] for m in request["messages"] if m["role"] == "user"]
    if "what is my name" in users[-1].lower():
        for text in users:
            found = re.search(r"my name is (\w+)", text, re.I)
            if found:
                return FakeReply(f"Your name is {found.group(1)}.")
        return FakeReply("I don't know your name yet.")
    return FakeReply("Mitosis is how one cell divides into two identical cells.")


async def test_third_answer_depends_on_the_first_turn(
    tutor_core: Runtime, fake_llm: FakeLLM, make_chat: Any
) -> None:
    fake_llm.default = remembers_name
    alice: ChatDriver = make_chat("alice")
    await alice.send("Hi! My name is Zed and I study biology.")
    await alice.send("What is mitosis?")
    third = await alice.send("What is my name?")
    assert "Your name is Zed" in last_text(third)
    sent = fake_llm.chat_requests[-1]["messages"]
    assert sent[0]["role"] == "system" and "tutor" in sent[0]["content"]
    assert [m["content"] for m in sent if m["role"] == "user"] == [
        "Hi! My name is Zed and I study biology.",
        "What is mitosis?",
        "What is my name?",
    ]


async def test_newchat_forgets_the_conversation(
    tutor_core: Runtime, fake_llm: FakeLLM, make_chat: Any
) -> None:
    fake_llm.default = remembers_name
    alice: ChatDriver = make_chat("alice")
    await alice.send("my name is Zed")
    assert "Fresh start" in await alice.say("/newchat")
    assert "don't know your name" in last_text(await alice.send("what is my name?"))


async def test_memory_is_per_user_and_per_chat(
    tutor_core: Runtime, fake_llm: FakeLLM, make_chat: Any
) -> None:
    fake_llm.default = remembers_name
    await make_chat("alice").send("my name is Zed")
    assert "don't know" in last_text(await make_chat("bob").send("what is my name?"))
    in_room = await make_chat("alice", room="bio").send("what is my name?")
    assert "don't know" in last_text(in_room)


async def test_answer_streams_into_one_live_message_at_most_once_a_second(
    tutor_core: Runtime, fake_llm: FakeLLM, chat: ChatDriver
) -> None:
    words = " ".join(f"word{i}" for i in range(30))
    fake_llm.replies.append(FakeReply(words))
    fake_llm.chunk_delay = 0.05  # ~1.5 s of streaming
    replies = await chat.send("tell me a long story")
    live_ids = {r.live_id for r in replies}
    assert len(live_ids) == 1 and None not in live_ids
    assert 2 <= len(replies) <= 4  # first token, ~1 throttled edit, the final text
    assert replies[0].plain_text().startswith("word0")
    assert last_text(replies) == words


async def test_provider_500_then_200_is_retried(
    tutor_core: Runtime, fake_llm: FakeLLM, chat: ChatDriver
) -> None:
    fake_llm.fail(500)
    fake_llm.replies.append(FakeReply("Photosynthesis turns light into sugar."))
    replies = await chat.send("what is photosynthesis?")
    assert last_text(replies) == "Photosynthesis turns light into sugar."
    assert len(fake_llm.chat_requests) == 2


async def test_provider_down_after_retries_says_so_and_keeps_the_message(
    tutor_core: Runtime, fake_llm: FakeLLM, chat: ChatDriver
) -> None:
    fake_llm.fail(503, times=4)
    text = last_text(await chat.send("what is entropy?"))
    assert "not answering" in text and "Your message is saved" in text
    assert len(fake_llm.chat_requests) == 4  # one try and three retries


async def test_stalled_provider_times_out_keeps_message_and_try_again_answers(
    core: Runtime, fake_llm: FakeLLM, chat: ChatDriver
) -> None:
    from core.tutor.service import TutorPorts

    core.services.tutor = TutorPorts(tutor_llm(fake_llm, timeout=0.5), core.services.redis)
    fake_llm.stall(2.0)
    replies = await chat.send("what is a derivative?")
    assert "took too long" in last_text(replies)
    retry = replies[-1].buttons[0]
    assert retry.label == "Try again"
    async with core.db.transaction() as session:
        stored = await session.scalars(select(TutorMessage.content))
        assert list(stored) == ["what is a derivative?"]
    fake_llm.replies.append(FakeReply("The rate of change."))
    assert last_text(await chat.press(retry.action)) == "The rate of change."
    assert fake_llm.chat_requests[-1]["messages"][-1]["content"] == "what is a derivative?"


async def test_retry_button_of_another_user_does_nothing(
    tutor_core: Runtime, fake_llm: FakeLLM, make_chat: Any
) -> None:
    fake_llm.fail(500, times=4)
    replies = await make_chat("alice").send("help me")
    action = replies[-1].buttons[0].action
    before = len(fake_llm.chat_requests)
    bob_says = last_text(await make_chat("bob").press(action))
    assert "already answered" in bob_says
    assert len(fake_llm.chat_requests) == before


async def test_rate_limit_per_user_per_minute(
    tutor_core: Runtime,
    fake_llm: FakeLLM,
    make_chat: Any,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tutor_core.services.settings, "tutor_requests_per_minute", 2)
    alice: ChatDriver = make_chat("alice")
    await alice.send("one")
    await alice.send("two")
    blocked = last_text(await alice.send("three"))
    assert "2 tutor requests a minute" in blocked and "try again in" in blocked
    assert len(fake_llm.chat_requests) == 2
    assert "You said: hi" in last_text(await make_chat("bob").send("hi"))
    clock.advance(timedelta(minutes=1))
    assert "You said: four" in last_text(await alice.send("four"))


async def test_daily_token_budget_and_usage_accounting(
    tutor_core: Runtime,
    fake_llm: FakeLLM,
    chat: ChatDriver,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tutor_core.services.settings, "tutor_daily_token_budget", 100)
    await chat.send("explain the krebs cycle in detail please " * 10)
    assert "today's tutor allowance (100 tokens)" in last_text(await chat.send("and glycolysis?"))
    async with tutor_core.db.transaction() as session:
        usage = (await session.scalars(select(TutorUsage))).one()
        assert usage.requests == 1 and usage.tokens_in > 0 and usage.tokens_out > 0
    clock.advance(timedelta(days=1))
    assert "You said" in last_text(await chat.send("and glycolysis?"))


async def test_old_turns_fold_into_a_rolling_summary(
    tutor_core: Runtime, fake_llm: FakeLLM, chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tutor_core.services.settings, "tutor_memory_token_budget", 900)
    monkeypatch.setattr(tutor_core.services.settings, "tutor_requests_per_minute", 0)

    def summary_or_echo(request: dict[str, Any]) -> FakeReply:
        if request.get("stream"):
            return echo(request)
        return FakeReply("The student asked many questions about cell biology.")

    fake_llm.default = summary_or_echo
    for i in range(12):
        await chat.send(f"question {i}: " + "tell me about cell biology " * 8)
    await tutor_core.services.jobs.drain()  # type: ignore[attr-defined]
    async with tutor_core.db.transaction() as session:
        conv = (await session.scalars(select(TutorConversation))).one()
        assert conv.summary and conv.summarized_upto > 0
        kept = await session.scalar(select(func.count()).select_from(TutorMessage))
        assert kept == 24  # summarising never deletes the verbatim history
    await chat.send("last question")
    sent = fake_llm.chat_requests[-1]["messages"]
    assert sent[1]["role"] == "system"
    assert "many questions about cell biology" in sent[1]["content"]
    assert "question 0:" not in json.dumps(sent[2:])
    assert sum(len(m["content"]) for m in sent) < 900 * 4 + 2000


def quiz_json(*pairs: tuple[str, str]) -> FakeReply:
    questions = [{"question": q, "answer": a} for q, a in pairs]
    return FakeReply(json.dumps({"questions": questions}))


def grade(correct: bool, feedback: str) -> FakeReply:
    return FakeReply(json.dumps({"correct": correct, "feedback": feedback}))


async def test_quiz_asks_one_by_one_grades_and_scores(
    tutor_core: Runtime, fake_llm: FakeLLM, chat: ChatDriver
) -> None:
    fake_llm.replies += [
        quiz_json(("What does DNA stand for?", "Deoxyribonucleic acid"), ("Powerhouse?", "ATP")),
        grade(True, "Spot on."),
        grade(False, "Think of the mitochondria's product."),
    ]
    first = await chat.say("/quiz genetics easy")
    assert "Quiz: genetics" in first and "(easy, 2 questions)" in first
    assert "Question 1/2: What does DNA stand for?" in first
    assert "easy" in fake_llm.chat_requests[0]["messages"][0]["content"]
    second = await chat.say("deoxyribonucleic acid")
    assert "Correct!" in second and "Question 2/2: Powerhouse?" in second
    grading = fake_llm.chat_requests[1]["messages"][0]["content"]
    assert "<<<deoxyribonucleic acid>>>" in grading
    third = await chat.say("glucose")
    assert "Not quite" in third and "Expected: ATP" in third
    assert "Score: 1/2" in third
    assert "You said: thanks" in await chat.say("thanks")  # quiz over: back to chatting


async def test_quiz_without_topic_explains_usage(tutor_core: Runtime, chat: ChatDriver) -> None:
    assert "/quiz <topic>" in await chat.say("/quiz")


async def test_explain_streams_an_explanation(
    tutor_core: Runtime, fake_llm: FakeLLM, chat: ChatDriver
) -> None:
    fake_llm.replies.append(FakeReply("Osmosis is water moving across a membrane."))
    assert "Osmosis is water" in await chat.say("/explain osmosis")
    assert "Concept: osmosis" in fake_llm.chat_requests[0]["messages"][-1]["content"]


async def test_unknown_tool_requested_by_the_model_does_nothing(
    tutor_core: Runtime, fake_llm: FakeLLM, chat: ChatDriver
) -> None:
    fake_llm.replies += [
        FakeReply("", [("delete_all_tasks", {})]),
        FakeReply("I can't do that."),
    ]
    assert "I can't do that." in await chat.say("hi")
    tool_result = fake_llm.chat_requests[-1]["messages"][-1]
    assert tool_result["role"] == "tool" and "no tool named" in tool_result["content"]


async def test_without_a_model_chat_says_how_to_connect_one(
    core: Runtime, chat: ChatDriver
) -> None:
    from core.tutor.service import TutorPorts

    core.services.tutor = TutorPorts(None, core.services.redis)
    assert "LLM_BASE_URL" in await chat.say("what is osmosis?")
    assert "needs an AI model" in await chat.say("/quiz cells")


async def test_memory_read_from_postgresql_matches_the_pure_assembly(tutor_core: Runtime) -> None:
    from core.identity.models import User
    from core.tutor import prompts
    from core.tutor.conversation import active_conversation, add_message, load_memory
    from core.tutor.memory import Turn, assemble

    async with tutor_core.db.transaction() as session:
        user = User(display_name="m")
        session.add(user)
        await session.flush()
        now = tutor_core.services.clock.now()
        conv = await active_conversation(session, user, None, "test:mem", now)
        for i in range(150):
            await add_message(session, conv, "user", f"question {i} " + "why " * (i % 17), now)
        conv.summary = "Earlier: the student studies chemistry."
        conv.summarized_upto = 20  # the first 20 messages are in the summary
        rows = await session.scalars(
            select(TutorMessage).where(TutorMessage.id > 20).order_by(TutorMessage.id.desc())
        )
        turns = [Turn(m.id, m.role, m.content, m.tokens) for m in rows]
        for budget in (50, 700, 3000, 100_000):
            from_db = await load_memory(session, conv, prompts.TUTOR, budget)
            pure = assemble(prompts.TUTOR, conv.summary, turns, budget)
            assert from_db.messages == pure.messages
            assert from_db.pending_tokens == pure.pending_tokens
            assert from_db.oldest_kept_id == pure.oldest_kept_id


async def test_provider_429_is_retried_after_backoff(
    tutor_core: Runtime, fake_llm: FakeLLM, chat: ChatDriver
) -> None:
    fake_llm.fail(429, times=2)
    fake_llm.replies.append(FakeReply("Here you go."))
    assert last_text(await chat.send("hello")) == "Here you go."
    assert len(fake_llm.chat_requests) == 3
