"""Run in a fresh process by test_embed_service: open the core as a bot or the API does,
with EMBEDDINGS_URL set, embed a query through `teddy embed`, and report as one JSON line
whether torch or sentence_transformers were imported."""

from __future__ import annotations

import asyncio
import json
import sys

from core.documents.embeddings import embedder_for
from core.settings import Settings
from teddy.runtime import open_runtime


async def main() -> None:
    import api.app  # noqa: F401  (the API process imports it too)
    import bots.telegram.run  # noqa: F401

    async with open_runtime(Settings(), run_migrations=False, preload_embedder=True) as core:
        embedder = embedder_for(core.services)
        assert embedder is not None
        vectors = await embedder.embed(["a question about cells"])
        report = {
            "embedder_model": embedder.model,
            "dims": len(vectors[0]),
            "warm_up": core.warm_up,
            "torch": "torch" in sys.modules,
            "sentence_transformers": "sentence_transformers" in sys.modules,
        }
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main())
