"""`teddy embed` serves the local model to the other processes: search through it ranks
like the in-process model, the processes that use it never import torch, and search
degrades to keywords, with a note, when it is down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.documents.embeddings import LOCAL_MODEL, LocalEmbedder, service_embedder
from core.documents.search import KEYWORD_ONLY_NOTE
from teddy.cli_up import free_port
from teddy.runtime import Runtime
from teddy.servers import Servers
from tests.integration.test_document_semantic_search import local_embedder
from tests.integration.test_documents import upload
from tests.support.chat_driver import ChatDriver

pytestmark = pytest.mark.skipif(
    not LocalEmbedder.available(), reason="the local-embeddings extra is not installed"
)

ROOT = Path(__file__).resolve().parents[2]
NOTE_TEXT = "Search by meaning is unavailable right now"
MIXED = (
    "# Biology\n\nMitochondria generate most of the chemical energy that powers a cell.\n\n"
    "# History\n\nThe Treaty of Westphalia ended the Thirty Years' War in 1648.\n\n"
    "# Chemistry\n\nNoble gases rarely react because their outer electron shell is full.\n\n"
    "# Physics\n\nA lever multiplies force by trading it against the distance moved.\n"
)
QUERIES = (
    "which organelle is the powerhouse that supplies power",
    "peace agreement signed to stop a conflict",
    "why do some elements stay inert",
    "simple machines and mechanical advantage",
)


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), **extra}


@pytest.fixture(scope="module")
def embed_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "teddy", "embed", "--port", str(port)],
        env=_env(),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            pytest.fail("teddy embed did not become healthy in 240 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


async def _results(chat: ChatDriver) -> list[list[str]]:
    found = []
    for query in QUERIES:
        reply = await chat.say(f"/search {query}")
        found.append([line.split(":")[0] for line in reply.splitlines()[1:] if line.strip()])
    return found


async def test_search_through_teddy_embed_ranks_exactly_like_the_in_process_model(
    core: Runtime, chat: ChatDriver, embed_url: str
) -> None:
    core.services.embedder = local_embedder()
    await upload(core, chat, "mixed.md", MIXED.encode())
    in_process = await _results(chat)
    core.services.embedder = service_embedder(embed_url)
    remote = await _results(chat)
    assert remote == in_process
    assert "§ Biology" in remote[0][0] and "§ History" in remote[1][0]
    local_vector = (await local_embedder().embed([QUERIES[0]]))[0]
    remote_vector = (await service_embedder(embed_url).embed([QUERIES[0]]))[0]
    assert max(abs(a - b) for a, b in zip(local_vector, remote_vector, strict=True)) < 1e-5


def test_the_service_speaks_the_openai_wire_format_and_refuses_other_models(
    embed_url: str,
) -> None:
    body = {"model": LOCAL_MODEL, "input": ["one text", "another text"]}
    answer = httpx.post(f"{embed_url}/v1/embeddings", json=body, timeout=30).json()
    assert [item["index"] for item in answer["data"]] == [0, 1]
    assert all(len(item["embedding"]) == 384 for item in answer["data"])
    assert answer["usage"]["prompt_tokens"] > 0
    wrong = httpx.post(
        f"{embed_url}/v1/embeddings", json={"model": "gpt-x", "input": "a"}, timeout=30
    )
    assert wrong.status_code == 404 and "all-MiniLM-L6-v2" in wrong.json()["error"]["message"]
    empty = httpx.post(
        f"{embed_url}/v1/embeddings", json={"model": LOCAL_MODEL, "input": []}, timeout=30
    )
    assert empty.status_code == 400


def test_a_bot_process_using_teddy_embed_never_imports_torch(
    tmp_path: Path, servers: Servers, embed_url: str, core: Runtime
) -> None:
    env = _env(
        TEDDY_HOME=str(tmp_path),
        DATABASE_URL=servers.database_url,
        REDIS_URL=servers.redis_url,
        EMBEDDINGS_URL=embed_url,
    )
    env.pop("EMBEDDINGS_PROVIDER", None)
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.remote_embedder_probe"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {
        "embedder_model": LOCAL_MODEL,
        "dims": 384,
        "warm_up": None,
        "torch": False,
        "sentence_transformers": False,
    }


async def test_search_and_ask_fall_back_to_keywords_with_a_note_when_teddy_embed_is_down(
    core: Runtime, chat: ChatDriver
) -> None:
    core.services.embedder = None
    await upload(core, chat, "mixed.md", MIXED.encode())
    core.services.embedder = service_embedder(f"http://127.0.0.1:{free_port()}")  # closed
    found = await chat.say("/search Westphalia treaty")
    assert "mixed.md § History" in found.splitlines()[2]
    assert NOTE_TEXT in found
    answered = await chat.say("/ask when did the Treaty of Westphalia end the war?")
    assert "mixed.md § History" in answered and NOTE_TEXT in answered
    nothing = await chat.say("/search quasar")
    assert "Nothing in your documents matches" in nothing and NOTE_TEXT in nothing
    assert KEYWORD_ONLY_NOTE.strip("_").startswith(NOTE_TEXT)
