"""One streamed tutor turn: the student's message stored, the model called with the
conversation's memory, read-only tools run and changes proposed, the answer stored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.context import Services
from core.errors import NotFound
from core.identity.models import Room, User
from core.jobs import enqueue_after_commit
from core.tutor import prompts, proposals, tools
from core.tutor.conversation import active_conversation, add_message, load_memory
from core.tutor.llm import LLM, Completion, LLMError, Message, ToolCall
from core.tutor.models import TutorConversation, TutorMessage
from core.tutor.proposals import Proposed
from core.tutor.service import account, check_limits, ports, require_llm

MAX_TOOL_ROUNDS = 3
OnText = Callable[[str], Awaitable[None]]


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
    image_url: str | None = None,
    counted: bool = False,
) -> TurnResult:
    """Answer one student message with the model, streaming text to `on_text`.

    The student's message is stored before the call; a provider failure is returned as
    `error` (not raised) so that message is committed and can be retried. Read-only tools
    run during the turn; changes are only proposed (see proposals.py). `image_url` goes
    with the student's message to this call only (the picture itself is not stored);
    `counted`: the caller has already counted this request against the limits."""
    llm = require_llm(services, "Chatting with me")
    now = services.clock.now()
    if not counted:
        await check_limits(session, services, user, now)
    conv = await active_conversation(session, user, room, key, now)
    if retry_of is None:
        stored = await add_message(session, conv, "user", text, now)
    else:
        stored = await _retryable_message(session, conv, retry_of)
    budget = services.settings.tutor_memory_token_budget
    memory = await load_memory(session, conv, prompts.TUTOR, budget)
    messages = list(memory.messages)
    if image_url is not None:
        messages[-1] = with_image(messages[-1], image_url)
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


def with_image(message: Message, image_url: str) -> Message:
    """The student's message with a picture, as OpenAI-compatible vision models take it."""
    parts = [
        {"type": "text", "text": str(message["content"])},
        {"type": "image_url", "image_url": {"url": image_url}},
    ]
    return {**message, "content": parts}


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
