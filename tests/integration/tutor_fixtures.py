"""Fixtures for the tutor tests: the local OpenAI-compatible server and a core whose
tutor talks to it through the real `openai` client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.tutor.openai_llm import OpenAILLM
from core.tutor.service import TutorPorts
from teddy.runtime import Runtime
from tests.support.fake_llm import FakeLLM, FakeLLMThread


@pytest.fixture(scope="session")
def fake_llm_server() -> Iterator[FakeLLM]:
    with FakeLLMThread() as fake:
        yield fake


@pytest.fixture
def fake_llm(fake_llm_server: FakeLLM) -> Iterator[FakeLLM]:
    fake_llm_server.reset()
    yield fake_llm_server
    fake_llm_server.reset()


def tutor_llm(fake: FakeLLM, *, timeout: float = 2.0) -> OpenAILLM:
    return OpenAILLM(
        base_url=fake.base_url,
        model="fake-model",
        api_key="test-key",
        timeout=timeout,
        max_retries=3,
        retry_base=0.01,
    )


@pytest.fixture
async def tutor_core(core: Runtime, fake_llm: FakeLLM) -> Runtime:
    redis = core.services.redis
    # Rate-limit windows follow the fixed test clock, so clear counts between tests.
    keys = await redis.keys("teddy:tutor:*")
    if keys:
        await redis.delete(*keys)
    core.services.tutor = TutorPorts(tutor_llm(fake_llm), redis)
    return core
