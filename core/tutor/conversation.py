"""A tutor conversation: one per user per chat, its stored messages, the memory the next
call sees (the turns that fit a token budget, plus a rolling summary) and folding older
turns into that summary (the job tutor.summarize)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.context import Services
from core.identity.models import Room, User
from core.tutor import prompts
from core.tutor.llm import LLMError
from core.tutor.memory import Memory, Turn, assemble, head_messages, turn_tokens
from core.tutor.models import TutorConversation, TutorMessage, TutorQuiz
from core.tutor.service import account, ports
from core.tutor.tokens import count_tokens

log = logging.getLogger(__name__)


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
