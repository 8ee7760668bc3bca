"""The OpenAI-compatible embeddings provider against a local server speaking the same
HTTP protocol (POST /v1/embeddings), with a 64-dimension model: no HNSW index for that
size, so search falls back to exact nearest neighbours."""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from core.documents.embeddings import OpenAIEmbedder, embedder_from_settings
from core.documents.models import Chunk
from core.settings import Settings
from teddy.runtime import Runtime
from tests.integration.test_documents import upload
from tests.support.chat_driver import ChatDriver

DIM = 64


def bag_of_words(text: str) -> list[float]:
    vector = [0.0] * DIM
    for word in text.lower().split():
        word = word.strip(".,;:!?")
        vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


class EmbeddingsHandler(BaseHTTPRequestHandler):
    requests: list[dict[str, object]] = []  # noqa: RUF012

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        EmbeddingsHandler.requests.append(body)
        assert self.path == "/v1/embeddings"
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        payload = {
            "object": "list",
            "model": body["model"],
            "data": [
                {"object": "embedding", "index": i, "embedding": bag_of_words(t)}
                for i, t in enumerate(inputs)
            ],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def embeddings_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EmbeddingsHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


async def test_openai_compatible_embeddings_index_and_search_with_their_own_dimension(
    core: Runtime, chat: ChatDriver, embeddings_server: str
) -> None:
    settings = Settings(
        embeddings_model="bag-64",
        embeddings_base_url=embeddings_server,
        embeddings_api_key="test-key",
        _env_file=None,  # type: ignore[call-arg]
    )
    embedder = embedder_from_settings(settings)
    assert isinstance(embedder, OpenAIEmbedder)
    core.services.embedder = embedder
    text = "# Rivers\n\nThe Nile flows north.\n\n# Mountains\n\nEverest is very tall.\n"
    await upload(core, chat, "geo.md", text.encode())
    async with core.db.transaction() as session:
        rows = (await session.execute(select(Chunk.embedding_model, Chunk.embedding_dim))).all()
    assert {tuple(r) for r in rows} == {("bag-64", DIM)}
    assert any(r["model"] == "bag-64" for r in EmbeddingsHandler.requests)
    found = await chat.say("/search everest tall")
    assert "geo.md § Mountains" in found.splitlines()[2]
