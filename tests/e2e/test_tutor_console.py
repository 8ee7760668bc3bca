"""The tutor as a person meets it: `teddy chat --jsonl` in a subprocess, configured only
by LLM_* environment variables pointing at the local OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from teddy.servers import Servers
from tests.integration.test_tutor_grounded import KREBS, cite_the_passage_with, pdf_bytes
from tests.integration.tutor_fixtures import fake_llm, fake_llm_server
from tests.support.fake_llm import FakeLLM, FakeReply

__all__ = ["fake_llm", "fake_llm_server"]


@pytest.fixture
def llm(fake_llm: FakeLLM, servers: Servers, core: object) -> Iterator[FakeLLM]:
    client = redis.Redis.from_url(servers.redis_url)
    keys = client.keys("teddy:tutor:*")
    if keys:
        client.delete(*keys)
    client.close()
    yield fake_llm


def tutor_chat(
    home: Path,
    servers: Servers,
    lines: list[str],
    env: dict[str, str],
    user: str,
    *args: str,
) -> list[dict[str, Any]]:
    full_env = {
        **os.environ,
        "TEDDY_HOME": str(home),
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "EMBEDDINGS_PROVIDER": "none",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-m", "teddy", "chat", "--jsonl", "--user", user, *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def model_env(fake: FakeLLM, **extra: str) -> dict[str, str]:
    return {
        "LLM_BASE_URL": fake.base_url,
        "LLM_MODEL": "fake-model",
        "LLM_API_KEY": "test-key",
        "LLM_RETRY_BASE_SECONDS": "0.01",
        **extra,
    }


def answers(out: list[dict[str, Any]]) -> list[str]:
    """The final text of each message: a live message's last edit replaces it."""
    texts: list[str] = []
    for record in out:
        if record["kind"] == "edit":
            texts[-1] = record["text"]
        else:
            texts.append(record["text"])
    return texts


def remembers_name(request: dict[str, Any]) -> FakeReply:
    users = [m["content"] for m in request["messages"] if m["role"] == "user"]
    if "what is my name" in users[-1].lower():
        names = [m.group(1) for t in users if (m := re.search(r"my name is (\w+)", t, re.I))]
        return FakeReply(f"Your name is {names[0]}." if names else "I don't know.")
    return FakeReply("Entropy measures how spread out energy is.")


def test_three_turn_conversation_remembers_the_first_turn(
    tmp_path: Path, servers: Servers, llm: FakeLLM
) -> None:
    llm.default = remembers_name
    out = tutor_chat(
        tmp_path,
        servers,
        ["Hi, my name is Ada.", "What is entropy?", "What is my name?"],
        model_env(llm),
        "e2e-ada",
    )
    said = answers(out)
    assert said[1] == "Entropy measures how spread out energy is."
    assert said[2] == "Your name is Ada."


def test_ask_cites_the_uploaded_pdf_page(tmp_path: Path, servers: Servers, llm: FakeLLM) -> None:
    pdf = tmp_path / "lecture-3.pdf"
    pdf.write_bytes(pdf_bytes(["Glycolysis happens in the cytoplasm.", KREBS]))
    tutor_chat(tmp_path, servers, [json.dumps({"file": str(pdf)})], model_env(llm), "e2e-ask")
    llm.default = cite_the_passage_with("mitochondrial matrix")
    out = tutor_chat(
        tmp_path, servers, ["/ask where does the krebs cycle happen?"], model_env(llm), "e2e-ask"
    )
    final = answers(out)[-1]
    assert re.search(r"matrix \[1\]", final) and "[1] lecture-3.pdf p.2" in final


def test_offline_new_user_gets_passages_with_citations(
    tmp_path: Path, servers: Servers, llm: FakeLLM
) -> None:
    pdf = tmp_path / "lecture-3.pdf"
    pdf.write_bytes(pdf_bytes(["Glycolysis happens in the cytoplasm.", KREBS]))
    tutor_chat(tmp_path, servers, [json.dumps({"file": str(pdf)})], {}, "e2e-offline")
    out = tutor_chat(
        tmp_path, servers, ["/ask where does the krebs cycle happen?"], {}, "e2e-offline"
    )
    final = answers(out)[-1]
    assert "[1] lecture-3.pdf p.2: " + KREBS in final
    assert "LLM_BASE_URL" in final
    assert llm.chat_requests == []


def test_quiz_graded_end_to_end(tmp_path: Path, servers: Servers, llm: FakeLLM) -> None:
    questions = [{"question": "2 + 2?", "answer": "4"}, {"question": "3 x 3?", "answer": "9"}]
    llm.replies += [
        FakeReply(json.dumps({"questions": questions})),
        FakeReply(json.dumps({"correct": True, "feedback": "Yes."})),
        FakeReply(json.dumps({"correct": True, "feedback": "Right."})),
    ]
    out = tutor_chat(
        tmp_path, servers, ["/quiz arithmetic easy", "4", "9"], model_env(llm), "e2e-quiz"
    )
    said = answers(out)
    assert "Question 1/2: 2 + 2?" in said[0]
    assert "Correct!" in said[1] and "Question 2/2" in said[1]
    assert "Score: 2/2" in said[2]


def test_tool_call_proposes_a_task_that_confirm_adds_in_a_later_process(
    tmp_path: Path, servers: Servers, llm: FakeLLM
) -> None:
    llm.replies += [
        FakeReply("", [("create_task", {"title": "Essay draft", "due": "tomorrow 9am"})]),
        FakeReply("I've proposed it."),
    ]
    out = tutor_chat(
        tmp_path,
        servers,
        ["add 'Essay draft' for tomorrow 9am to my tasks", "/tasks"],
        model_env(llm),
        "e2e-tool",
    )
    said = answers(out)
    assert said[0].startswith("I've proposed it.") and "Essay draft" in said[0]
    assert "Essay draft" not in said[1]
    proposal = next(r for r in out if r.get("buttons"))
    confirm = next(b["action"] for b in proposal["buttons"] if b["label"] == "Confirm")
    lines = [json.dumps({"action": confirm}), "/tasks"]
    again = answers(tutor_chat(tmp_path, servers, lines, model_env(llm), "e2e-tool"))
    assert "created task #1: Essay draft" in again[0]
    assert "Essay draft" in again[1]


def test_provider_500_then_200_is_retried(tmp_path: Path, servers: Servers, llm: FakeLLM) -> None:
    llm.fail(500)
    llm.replies.append(FakeReply("Recovered answer."))
    out = tutor_chat(tmp_path, servers, ["hello?"], model_env(llm), "e2e-500")
    assert answers(out) == ["Recovered answer."]
    assert len(llm.chat_requests) == 2


def test_stalled_provider_gives_a_timeout_message_and_keeps_the_message(
    tmp_path: Path, servers: Servers, llm: FakeLLM
) -> None:
    llm.stall(3.0)
    env = model_env(llm, LLM_TIMEOUT_SECONDS="1")
    out = tutor_chat(tmp_path, servers, ["what is a vector space?"], env, "e2e-stall")
    assert "took too long" in out[-1]["text"] and "Your message is saved" in out[-1]["text"]
    retry = out[-1]["buttons"][0]["action"]
    llm.replies.append(FakeReply("A set closed under addition and scaling."))
    again = tutor_chat(tmp_path, servers, [json.dumps({"action": retry})], env, "e2e-stall")
    assert answers(again)[-1] == "A set closed under addition and scaling."
    assert llm.chat_requests[-1]["messages"][-1]["content"] == "what is a vector space?"


def test_rate_limit_reached_says_so(tmp_path: Path, servers: Servers, llm: FakeLLM) -> None:
    env = model_env(llm, TUTOR_REQUESTS_PER_MINUTE="2")
    # A fixed clock, so the three messages cannot straddle two one-minute windows.
    now = ("--now", "2026-11-25T10:00:30+00:00")
    out = tutor_chat(tmp_path, servers, ["one", "two", "three"], env, "e2e-rate", *now)
    said = answers(out)
    assert said[:2] == ["You said: one", "You said: two"]
    assert "2 tutor requests a minute" in said[2]
