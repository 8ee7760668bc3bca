"""What every tutor feature shares: its ports (the model, Redis), the per-user limits and
token accounting, and one-shot JSON prompts. Conversations and memory live in
conversation.py, a streamed turn in turn.py, quizzes in quizzes.py; handlers in commands.py
call these, and nothing here knows about replies."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.chat.context import Services
from core.chat.messages import Incoming
from core.errors import TeddyError
from core.identity.models import User
from core.tutor import prompts, toolbox
from core.tutor.limits import RateLimited, RedisLike, check_rate, record_usage, tokens_used_today
from core.tutor.llm import LLM, Completion, LLMError
from core.tutor.openai_llm import llm_from_settings
from core.tutor.tokens import count_tokens

log = logging.getLogger(__name__)

TOOLBOX = toolbox  # imported for its @tool registrations


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
