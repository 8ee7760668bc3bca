"""The tutor's rules: conversations and memory, limits, a streamed turn with tool calls,
quizzes. Handlers in commands.py call these; nothing here knows about replies."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.context import Services
from core.chat.messages import Incoming
from core.errors import BadInput, NotFound, TeddyError
from core.identity.models import Room, User
from core.jobs import enqueue_after_commit
from core.tutor import prompts, proposals, toolbox, tools
from core.tutor.limits import RateLimited, RedisLike, check_rate, record_usage, tokens_used_today
from core.tutor.llm import LLM, Completion, LLMError, Message, ToolCall
from core.tutor.memory import Memory, Turn, assemble, head_messages, turn_tokens
from core.tutor.models import TutorConversation, TutorMessage, TutorQuiz
from core.tutor.openai_llm import llm_from_settings
from core.tutor.proposals import Proposed
from core.tutor.tokens import count_tokens

log = logging.getLogger(__name__)

MAX_TOOL_ROUNDS = 3
TOOLBOX = toolbox  # imported for its @tool registrations
DIFFICULTIES = ("easy", "medium", "hard")
OnText = Callable[[str], Awaitable[None]]


class LimitReached(TeddyError):
    """A per-user tutor limit (rate or daily tokens) is reached."""


class NeedsModel(TeddyError):
    """The feature needs a connected LLM."""


@dataclass
class TutorPorts:
    """What the tutor needs from outside: the model (None = offline) and Redis."""

    llm: LLM | None
    redis: RedisLike | None


def ports(services: Services) -> TutorPorts:
    """The tutor's ports, built once per process from the settings; tests and other
    processes may put their own `TutorPorts` in `services.tutor` first."""
    if services.tutor is None:
        services.tutor = TutorPorts(llm_from_settings(services.settings), services.redis)
    return services.tutor


def require_llm(services: Services, what: str) -> LLM:
    llm = ports(services).llm
    if llm is None:
        raise NeedsModel(f"{what} needs an AI model. {prompts.CONNECT_MODEL}")
    return llm


def chat_key(incoming: Incoming) -> str:
    """Memory is per user per chat: the same person has separate threads in a DM and in
    each room (and thread)."""
    chat = incoming.chat
    thread = f"/{chat.thread_id}" if chat.thread_id else ""
    return f"{chat.platform}:{chat.external_id}{thread}"


# Limits -------------------------------------------------------------------------------


async def check_limits(
    session: AsyncSession, services: Services, user: User, now: datetime
) -> None:
    """Count one tutor request; raise `LimitReached` with a clear message past a limit."""
    settings = services.settings
    redis = ports(services).redis
    if redis is not None:
        try:
            await check_rate(redis, user.id, now, settings.tutor_requests_per_minute)
        except RateLimited as err:
            raise LimitReached(
                f"You've reached {settings.tutor_requests_per_minute} tutor requests a minute. "
                f"Take a breath and try again in {err.retry_in} s."
            ) from None
    budget = settings.tutor_daily_token_budget
    if budget > 0 and await tokens_used_today(session, user.id, now.date()) >= budget:
        raise LimitReached(
            f"You've used today's tutor allowance ({budget:,} tokens). "
            "It renews at midnight UTC; flashcards, tasks and /search still work."
        )


async def account(
    session: AsyncSession, user: User, now: datetime, completion: Completion, prompt_tokens: int
) -> None:
    """Record a call's tokens (our own count when the provider sent none)."""
    tokens_in = completion.tokens_in or prompt_tokens
    tokens_out = completion.tokens_out or count_tokens(completion.text)
    await record_usage(session, user.id, now.date(), tokens_in, tokens_out)


# Conversations ------------------------------------------------------------------------


async def active_conversation(
    session: AsyncSession, user: User, room: Room | None, key: str, now: datetime
) -> TutorConversation:
    conv = await session.scalar(
        select(TutorConversation)
        .where(
            TutorConversation.user_id == user.id,
            TutorConversation.chat_key == key,
            TutorConversation.closed_at.is_(None),
        )
        .order_by(TutorConversation.id.desc())
        .limit(1)
    )
    if conv is None:
        conv = TutorConversation(
            user_id=user.id, room_id=room.id if room else None, chat_key=key, summary=""
        )
        session.add(conv)
        await session.flush()
    return conv


async def new_conversation(session: AsyncSession, user: User, key: str, now: datetime) -> None:
    """Forget this chat's conversation (and any quiz in progress)."""
    await session.execute(
        update(TutorConversation)
        .where(
            TutorConversation.user_id == user.id,
            TutorConversation.chat_key == key,
            TutorConversation.closed_at.is_(None),
        )
        .values(closed_at=now)
    )
    await session.execute(
        update(TutorQuiz)
        .where(TutorQuiz.user_id == user.id, TutorQuiz.chat_key == key)
        .where(TutorQuiz.finished_at.is_(None))
        .values(finished_at=now)
    )


async def add_message(
    session: AsyncSession, conv: TutorConversation, role: str, content: str, now: datetime
) -> TutorMessage:
    message = TutorMessage(
        conversation_id=conv.id,
        role=role,
        content=content,
        tokens=turn_tokens(content),
        created_at=now,
    )
    session.add(message)
    await session.flush()
    return message


async def load_memory(
    session: AsyncSession, conv: TutorConversation, system: str, budget: int
) -> Memory:
    """The memory for the next call. Only the turns that fit are read: a running sum of
    stored token counts, newest first, picks them in PostgreSQL."""
    _, head_tokens = head_messages(system, conv.summary)
    window = (
        select(
            TutorMessage.id,
            TutorMessage.tokens,
            func.sum(TutorMessage.tokens).over(order_by=TutorMessage.id.desc()).label("running"),
            func.sum(TutorMessage.tokens).over().label("total"),
        )
        .where(
            TutorMessage.conversation_id == conv.id,
            TutorMessage.id > conv.summarized_upto,
        )
        .subquery()
    )
    rows = (
        await session.execute(
            select(
                TutorMessage.id,
                TutorMessage.role,
                TutorMessage.content,
                TutorMessage.tokens,
                window.c.running,
                window.c.total,
            )
            .join(window, window.c.id == TutorMessage.id)
            .where(
                or_(
                    window.c.running <= budget - head_tokens,
                    window.c.running == window.c.tokens,  # the newest turn, always
                )
            )
            .order_by(TutorMessage.id.desc())
        )
    ).all()
    turns = [Turn(r.id, r.role, r.content, r.tokens) for r in rows]
    beyond = int(rows[0].total) - int(rows[-1].running) if rows else 0
    return assemble(system, conv.summary, turns, budget, pending_beyond=beyond)


async def unsummarized_turns(
    session: AsyncSession, conv: TutorConversation, before_id: int
) -> list[Turn]:
    rows = await session.execute(
        select(TutorMessage.id, TutorMessage.role, TutorMessage.content, TutorMessage.tokens)
        .where(
            TutorMessage.conversation_id == conv.id,
            TutorMessage.id > conv.summarized_upto,
            TutorMessage.id < before_id,
        )
        .order_by(TutorMessage.id)
    )
    return [Turn(r.id, r.role, r.content, r.tokens) for r in rows]


# A streamed turn ---------------------------------------------------------------------


@dataclass
class TurnResult:
    text: str
    message_id: int  # the student's stored message
    error: str | None = None
    tools_used: int = 0
    # Changes the model proposed; each waits for the student's Confirm.
    proposals: list[Proposed] = field(default_factory=list)


async def tutor_turn(
    session: AsyncSession,
    services: Services,
    user: User,
    room: Room | None,
    key: str,
    text: str,
    on_text: OnText,
    *,
    retry_of: int | None = None,
) -> TurnResult:
    """Answer one student message with the model, streaming text to `on_text`.

    The student's message is stored before the call; a provider failure is returned as
    `error` (not raised) so that message is committed and can be retried. Read-only tools
    run during the turn; changes are only proposed (see proposals.py)."""
    llm = require_llm(services, "Chatting with me")
    now = services.clock.now()
    await check_limits(session, services, user, now)
    conv = await active_conversation(session, user, room, key, now)
    if retry_of is None:
        stored = await add_message(session, conv, "user", text, now)
    else:
        stored = await _retryable_message(session, conv, retry_of)
    budget = services.settings.tutor_memory_token_budget
    memory = await load_memory(session, conv, prompts.TUTOR, budget)
    messages = list(memory.messages)
    tc = tools.ToolContext(session, user, room, services)
    result = TurnResult("", stored.id)
    read = False  # a tool result (document text, search hits) is in the context
    try:
        for _ in range(MAX_TOOL_ROUNDS):
            completion = await _stream_once(llm, messages, on_text)
            await account(session, user, now, completion, memory.tokens)
            result.text += completion.text
            if not completion.tool_calls:
                break
            messages.append(_assistant_tool_message(completion))
            for call in completion.tool_calls:
                content = await _call_tool(tc, call, result.proposals, read, now)
                read = read or tools.reads(call.name)
                result.tools_used += 1
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": call.id,
                        "content": tools.for_model(call.name, content),
                    }
                )
    except LLMError as err:
        result.error = err.message
        return result
    if not result.text.strip():
        result.text = "Done." if result.tools_used else "(no answer)"
    await add_message(session, conv, "assistant", result.text, services.clock.now())
    if memory.needs_summary(budget) and ports(services).llm is not None:
        await enqueue_after_commit(
            session, services.jobs, "tutor.summarize", conversation_id=conv.id
        )
    return result


async def _call_tool(
    tc: tools.ToolContext,
    call: ToolCall,
    proposed: list[Proposed],
    after_reading: bool,
    now: datetime,
) -> str:
    """Run a read-only tool, or store a change as a proposal; the text for the model."""
    outcome = await tools.run_tool(tc, call)
    if outcome.plan is None:
        return outcome.text
    if len(proposed) >= proposals.MAX_PER_TURN:
        return (
            f"error: at most {proposals.MAX_PER_TURN} changes can be proposed in one answer; "
            "nothing was done"
        )
    proposed.append(await proposals.propose(tc, outcome.plan, now, after_reading=after_reading))
    return proposals.for_model(outcome.plan.summary)


async def _stream_once(llm: LLM, messages: list[Message], on_text: OnText) -> Completion:
    final = Completion()
    async for item in llm.stream(messages, tools=tools.specs()):
        if isinstance(item, Completion):
            final = item
        else:
            await on_text(item)
    return final


def _assistant_tool_message(completion: Completion) -> Message:
    return {
        "role": "assistant",
        "content": completion.text or None,
        "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in completion.tool_calls
        ],
    }


async def _retryable_message(
    session: AsyncSession, conv: TutorConversation, message_id: int
) -> TutorMessage:
    last = await session.scalar(
        select(TutorMessage)
        .where(TutorMessage.conversation_id == conv.id)
        .order_by(TutorMessage.id.desc())
        .limit(1)
    )
    if last is None or last.id != message_id or last.role != "user":
        raise NotFound("That message was already answered, or the chat was restarted.")
    return last


# Summaries (run as the job tutor.summarize) ----------------------------------------


async def summarize(session: AsyncSession, services: Services, conversation_id: int) -> bool:
    """Fold the turns that fell out of the memory window into the rolling summary.
    Idempotent: does nothing when there is not enough to fold. True when it summarised."""
    llm = ports(services).llm
    conv = await session.get(TutorConversation, conversation_id, with_for_update=True)
    if llm is None or conv is None:
        return False
    budget = services.settings.tutor_memory_token_budget
    memory = await load_memory(session, conv, prompts.TUTOR, budget)
    if not memory.needs_summary(budget):
        return False
    older = await unsummarized_turns(session, conv, memory.oldest_kept_id)
    if not older:
        return False
    transcript = "\n".join(f"{t.role}: {t.content}" for t in older)
    prompt = prompts.SUMMARY.format(
        previous=prompts.inert(conv.summary or "(none)"), transcript=prompts.inert(transcript)
    )
    try:
        completion = await llm.complete([{"role": "user", "content": prompt}])
    except LLMError:
        log.warning("summary of conversation %s failed; will retry next turn", conv.id)
        return False
    user = await session.get(User, conv.user_id)
    if user is not None:
        await account(session, user, services.clock.now(), completion, count_tokens(prompt))
    conv.summary = completion.text.strip()
    conv.summarized_upto = older[-1].id
    return True


# One-shot prompts -----------------------------------------------------------------------


async def ask_json(
    session: AsyncSession, services: Services, user: User, llm: LLM, prompt: str
) -> dict[str, Any]:
    """A non-streamed call whose reply must be a JSON object."""
    now = services.clock.now()
    completion = await llm.complete([{"role": "user", "content": prompt}], json_mode=True)
    await account(session, user, now, completion, count_tokens(prompt))
    return parse_json_object(completion.text)


def parse_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a model's reply (models wrap JSON in prose or fences)."""
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if match is None:
        raise LLMError("The AI model's reply was not in the expected form. Please try again.")
    try:
        value = json.loads(match.group(0))
    except json.JSONDecodeError:
        raise LLMError(
            "The AI model's reply was not in the expected form. Please try again."
        ) from None
    if not isinstance(value, dict):
        raise LLMError("The AI model's reply was not in the expected form. Please try again.")
    return value


# Quizzes --------------------------------------------------------------------------------


def parse_quiz_args(args: str) -> tuple[str, str]:
    words = args.split()
    difficulty = "medium"
    if words and words[-1].lower() in DIFFICULTIES:
        difficulty = words.pop().lower()
    topic = " ".join(words).strip()
    if not topic:
        raise BadInput("Tell me the topic: /quiz <topic> [easy|medium|hard], e.g. /quiz cells")
    if len(topic) > 300:
        raise BadInput("That topic is too long; keep it under 300 characters.")
    return topic, difficulty


async def active_quiz(session: AsyncSession, user: User, key: str) -> TutorQuiz | None:
    found: TutorQuiz | None = await session.scalar(
        select(TutorQuiz)
        .where(
            TutorQuiz.user_id == user.id,
            TutorQuiz.chat_key == key,
            TutorQuiz.finished_at.is_(None),
        )
        .order_by(TutorQuiz.id.desc())
        .limit(1)
    )
    return found


async def start_quiz(
    session: AsyncSession, services: Services, user: User, key: str, args: str
) -> TutorQuiz:
    topic, difficulty = parse_quiz_args(args)
    llm = require_llm(services, "/quiz")
    now = services.clock.now()
    await check_limits(session, services, user, now)
    n = services.settings.tutor_quiz_questions
    data = await ask_json(
        session, services, user, llm, prompts.QUIZ.format(n=n, difficulty=difficulty, topic=topic)
    )
    questions = [
        {"question": str(q["question"]), "answer": str(q.get("answer", ""))}
        for q in data.get("questions", [])
        if isinstance(q, dict) and q.get("question")
    ][:n]
    if not questions:
        raise LLMError("The AI model did not write any questions. Please try again.")
    await session.execute(
        update(TutorQuiz)
        .where(TutorQuiz.user_id == user.id, TutorQuiz.chat_key == key)
        .where(TutorQuiz.finished_at.is_(None))
        .values(finished_at=now)
    )
    quiz = TutorQuiz(
        user_id=user.id,
        chat_key=key,
        topic=topic,
        difficulty=difficulty,
        questions=questions,
        results=[],
    )
    session.add(quiz)
    await session.flush()
    return quiz


@dataclass(frozen=True)
class Graded:
    correct: bool
    feedback: str
    expected: str


async def grade_answer(
    session: AsyncSession, services: Services, user: User, quiz: TutorQuiz, answer: str
) -> Graded:
    """Grade the answer to the current question and move on (finishing after the last)."""
    llm = require_llm(services, "Grading a quiz")
    now = services.clock.now()
    await check_limits(session, services, user, now)
    question = quiz.questions[len(quiz.results)]
    prompt = prompts.GRADE.format(
        question=question["question"], answer=question["answer"], student=prompts.inert(answer)
    )
    data = await ask_json(session, services, user, llm, prompt)
    graded = Graded(bool(data.get("correct")), str(data.get("feedback", "")), question["answer"])
    quiz.results = [
        *quiz.results,
        {"answer": answer, "correct": graded.correct, "feedback": graded.feedback},
    ]
    if len(quiz.results) >= len(quiz.questions):
        quiz.finished_at = now
    return graded


def quiz_score(quiz: TutorQuiz) -> int:
    return sum(1 for r in quiz.results if r.get("correct"))
