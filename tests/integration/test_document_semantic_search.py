"""Search by meaning with the local embedding model (needs the local-embeddings extra)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from core.documents.embeddings import LocalEmbedder
from core.documents.jobs import sweep_reembed
from core.documents.models import Chunk
from core.jobs import JobContext
from teddy.runtime import Runtime
from tests.integration.test_documents import upload
from tests.support.chat_driver import ChatDriver

pytestmark = pytest.mark.skipif(
    not LocalEmbedder.available(), reason="the local-embeddings extra is not installed"
)

_EMBEDDER: LocalEmbedder | None = None


def local_embedder() -> LocalEmbedder:
    global _EMBEDDER
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if _EMBEDDER is None:
        _EMBEDDER = LocalEmbedder()
    return _EMBEDDER


async def test_search_finds_a_sentence_by_meaning_without_shared_words(
    core: Runtime, chat: ChatDriver
) -> None:
    core.services.embedder = local_embedder()
    text = (
        "# Biology\n\nMitochondria generate most of the chemical energy that powers a cell.\n\n"
        "# History\n\nThe Treaty of Westphalia ended the Thirty Years' War in 1648.\n\n"
        "# Chemistry\n\nNoble gases rarely react because their outer electron shell is full.\n"
    )
    await upload(core, chat, "mixed.md", text.encode())
    async with core.db.transaction() as session:
        dims = set(await session.scalars(select(Chunk.embedding_dim)))
        models = set(await session.scalars(select(Chunk.embedding_model)))
    assert dims == {384} and models == {"all-MiniLM-L6-v2"}
    found = await chat.say("/search which organelle is the powerhouse that supplies power")
    first = found.splitlines()[2]
    assert "mixed.md § Biology" in first
    found = await chat.say("/search peace agreement signed to stop a conflict")
    assert "§ History" in found.splitlines()[2]


async def test_switching_embeddings_on_reembeds_existing_chunks_in_the_background(
    core: Runtime, chat: ChatDriver
) -> None:
    core.services.embedder = None
    await upload(core, chat, "old.md", b"# Ocean\n\nWhales are mammals that breathe air.\n")
    core.services.embedder = local_embedder()
    await sweep_reembed(JobContext(core.db, core.services))
    async with core.db.transaction() as session:
        rows = (await session.execute(select(Chunk.embedding_model, Chunk.embedding_dim))).all()
    assert [tuple(r) for r in rows] == [("all-MiniLM-L6-v2", 384)]
    found = await chat.say("/search sea creatures with lungs")
    assert "old.md § Ocean" in found


async def test_a_large_batch_split_over_encoder_threads_keeps_order_and_float32_vectors() -> None:
    import numpy as np

    from core.documents.embeddings import _LOCAL_MODEL

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    texts = [
        f"Passage {i}: enzyme {i % 7} lowers activation energy by {i} units." for i in range(40)
    ]
    texts[13] = "The Treaty of Westphalia ended the Thirty Years' War."
    split = LocalEmbedder(batch_size=4, workers=3)
    got = np.array(await split.embed(texts))
    assert _LOCAL_MODEL.value is not None
    exact = _LOCAL_MODEL.value.encode(texts, normalize_embeddings=True)  # float32, one thread
    cosines = (got * exact).sum(axis=1)
    assert got.shape == (40, 384) and cosines.min() > 0.999
    assert np.argmax(exact @ got[13]) == 13  # each vector stays with its own text
