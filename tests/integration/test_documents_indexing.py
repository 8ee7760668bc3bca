"""Writing a document's chunks (COPY, then one statement for the full-text vectors and the
BM25 statistics): a large batch lands whole, a failure anywhere leaves the previous state,
and ingesting again changes nothing."""

from __future__ import annotations

import math
from typing import Any

import pytest
from sqlalchemy import select, text

from core.documents.chunking import ChunkDraft
from core.documents.indexing import replace_chunks
from core.documents.jobs import ingest
from core.documents.models import Chunk, Document
from core.jobs import JobContext
from teddy.runtime import Runtime
from tests import doc_samples
from tests.conftest import ChatDriver
from tests.integration.test_documents import LECTURE, upload

DIM = 384


@pytest.fixture
async def document_id(core: Runtime, chat: ChatDriver) -> int:
    core.services.embedder = None
    await upload(core, chat, "notes.md", b"# Start\n\nA first passage about enzymes.\n")
    async with core.db.transaction() as session:
        found = await session.scalar(select(Document.id))
    assert found is not None
    return int(found)


def drafts(count: int, *, offset: int = 0) -> list[ChunkDraft]:
    return [
        ChunkDraft(
            i,
            f"Passage {i + offset} on mitochondria and energy, word{(i + offset) % 37} "
            f"term{(i + offset) % 11} term{(i + offset) % 11}.",
            i // 10 + 1,
            "Cells" if i % 2 else None,
        )
        for i in range(count)
    ]


def vectors(count: int) -> list[list[float]]:
    return [[math.sin(i + d) for d in range(DIM)] for i in range(count)]


async def replace(
    core: Runtime,
    document_id: int,
    batch: list[ChunkDraft],
    embedded: list[list[float]] | None,
) -> None:
    async with core.db.transaction() as session:
        document = await session.get(Document, document_id, with_for_update=True)
        assert document is not None
        await replace_chunks(session, document, batch, embedded, "test-model" if embedded else None)


async def rows(core: Runtime, *queries: str) -> list[list[Any]]:
    async with core.db.transaction() as session:
        return [[tuple(r) for r in await session.execute(text(q))] for q in queries]


async def index_state(core: Runtime) -> dict[str, Any]:
    """Every chunk (without its id) and the statistics, for before/after comparisons."""
    chunks, lexemes, scopes = await rows(
        core,
        "SELECT ordinal, page, section, text, tsv::text, length, embedding_model,"
        " embedding_dim FROM document_chunks ORDER BY document_id, ordinal",
        "SELECT scope, lexeme, df FROM document_lexeme_stats ORDER BY 1, 2",
        "SELECT scope, chunks, total_length FROM document_scope_stats ORDER BY scope",
    )
    return {"chunks": chunks, "lexemes": lexemes, "scopes": scopes}


async def recounted(core: Runtime) -> tuple[list[Any], list[Any]]:
    """The statistics as computed from the chunks themselves: what the stored ones must be."""
    lexemes, scopes = await rows(
        core,
        "SELECT c.scope, x.lexeme, count(*) FROM document_chunks AS c,"
        " unnest(c.tsv) AS x GROUP BY 1, 2 ORDER BY 1, 2",
        "SELECT scope, count(*), sum((SELECT coalesce(sum(coalesce("
        "array_length(x.positions, 1), 1)), 0) FROM unnest(tsv) AS x))"
        " FROM document_chunks GROUP BY scope ORDER BY scope",
    )
    return lexemes, scopes


async def test_a_batch_of_thousands_of_chunks_lands_whole_with_its_statistics(
    core: Runtime, document_id: int
) -> None:
    batch = drafts(3000)
    await replace(core, document_id, batch, vectors(3000))
    state = await index_state(core)
    assert [c[:4] for c in state["chunks"]] == [
        (d.ordinal, d.page, d.section, d.text) for d in batch
    ]
    assert {c[6:] for c in state["chunks"]} == {("test-model", DIM)}
    assert all(c[5] > 0 for c in state["chunks"])
    lexemes, scopes = await recounted(core)
    assert state["lexemes"] == lexemes
    assert state["scopes"] == scopes
    assert scopes[0][1] == 3000
    async with core.db.transaction() as session:
        stored = await session.scalar(select(Chunk.embedding).where(Chunk.ordinal == 1234))
        cells = await session.scalar(
            text("SELECT tsv::text FROM document_chunks WHERE ordinal = 1")
        )
    assert stored is not None
    wanted = vectors(1235)[1234]
    assert max(abs(float(x) - w) for x, w in zip(stored, wanted, strict=True)) < 1e-6
    assert "'cell'" in (cells or "")  # the section is indexed with the text


async def test_keyword_only_chunks_have_no_vector(core: Runtime, document_id: int) -> None:
    await replace(core, document_id, drafts(40), None)
    async with core.db.transaction() as session:
        rows = (await session.execute(select(Chunk.embedding, Chunk.embedding_model))).all()
    assert len(rows) == 40 and {(r.embedding, r.embedding_model) for r in rows} == {(None, None)}


@pytest.mark.parametrize("where", ["copy", "statement"])
async def test_a_failure_mid_batch_leaves_the_previous_chunks_and_statistics(
    core: Runtime, document_id: int, where: str
) -> None:
    await replace(core, document_id, drafts(25, offset=500), vectors(25))
    before = await index_state(core)
    batch, embedded = drafts(1000), vectors(1000)
    if where == "copy":  # refused while copying: longer than the section column
        batch[700] = ChunkDraft(700, "text", 71, "x" * 301)
    else:  # refused by the insert that follows: pgvector takes no NaN
        embedded[700][5] = math.nan
    with pytest.raises(Exception, match=r"too long|NaN"):
        await replace(core, document_id, batch, embedded)
    assert await index_state(core) == before
    await replace(core, document_id, drafts(3), vectors(3))  # the connection is usable again
    assert len((await index_state(core))["chunks"]) == 3


async def test_replacing_twice_in_one_transaction_keeps_only_the_second(
    core: Runtime, document_id: int
) -> None:
    async with core.db.transaction() as session:
        document = await session.get(Document, document_id, with_for_update=True)
        assert document is not None
        await replace_chunks(session, document, drafts(50), None, None)
        await replace_chunks(session, document, drafts(7, offset=90), None, None)
    state = await index_state(core)
    assert [c[3] for c in state["chunks"]] == [d.text for d in drafts(7, offset=90)]
    lexemes, scopes = await recounted(core)
    assert state["lexemes"] == lexemes
    assert state["scopes"] == scopes


async def test_ingesting_a_document_again_changes_nothing(core: Runtime, chat: ChatDriver) -> None:
    core.services.embedder = None
    await upload(core, chat, "lecture.pdf", doc_samples.pdf(LECTURE * 4))
    before = await index_state(core)
    assert len(before["chunks"]) > 0
    async with core.db.transaction() as session:
        found = await session.scalar(select(Document.id))
    assert found is not None
    await ingest(JobContext(core.db, core.services), document_id=found)
    assert await index_state(core) == before
