"""A document's chunks in the index: writing them with their full-text vectors and BM25
statistics, and taking them out again. Always in the caller's transaction: a document's
chunks and its scope's statistics change together or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.documents.chunking import ChunkDraft
from core.documents.models import Chunk, Document
from core.documents.retrieval import TS_CONFIG

# The chunks travel by COPY into this per-transaction table, then one statement moves them
# into document_chunks (full-text vector and length computed there) and adds them to the
# scope's statistics.
STAGING = "chunk_staging"
_STAGING_COLUMNS = ("ordinal", "page", "section", "text", "embedding")
_CREATE_STAGING = f"""
    CREATE TEMP TABLE IF NOT EXISTS {STAGING} (
        ordinal integer, page integer, section varchar(300), text text, embedding real[]
    ) ON COMMIT DROP
"""
_MOVE_STAGED = f"""
    WITH staged AS (DELETE FROM {STAGING} RETURNING *),
    inserted AS (
        INSERT INTO document_chunks
            (document_id, scope, ordinal, page, section, text, tsv, length,
             embedding, embedding_model, embedding_dim)
        SELECT CAST(:doc AS bigint), CAST(:scope AS varchar),
            s.ordinal, s.page, s.section, s.text, v.tsv,
            (SELECT coalesce(sum(coalesce(array_length(x.positions, 1), 1)), 0)
             FROM unnest(v.tsv) AS x),
            CAST(s.embedding AS vector),
            CASE WHEN s.embedding IS NOT NULL THEN CAST(:model AS varchar) END,
            array_length(s.embedding, 1)
        FROM staged AS s,
            LATERAL (SELECT to_tsvector('{TS_CONFIG}',
                coalesce(s.section, '') || ' ' || s.text) AS tsv) AS v
        ORDER BY s.ordinal
        RETURNING tsv, length
    ),
    lexemes AS (
        INSERT INTO document_lexeme_stats (scope, lexeme, df)
        SELECT CAST(:scope AS varchar), x.lexeme, count(*)
        FROM inserted AS c, unnest(c.tsv) AS x
        GROUP BY x.lexeme ORDER BY x.lexeme
        ON CONFLICT (scope, lexeme) DO UPDATE SET df = document_lexeme_stats.df + excluded.df
    )
    INSERT INTO document_scope_stats (scope, chunks, total_length)
    SELECT CAST(:scope AS varchar), count(*), coalesce(sum(length), 0) FROM inserted
    ON CONFLICT (scope) DO UPDATE SET
        chunks = document_scope_stats.chunks + excluded.chunks,
        total_length = document_scope_stats.total_length + excluded.total_length
"""


async def remove_chunks(session: AsyncSession, document: Document) -> None:
    """Delete the document's chunks and take them out of its scope's statistics."""
    params = {"doc": document.id, "scope": document.scope}
    has_chunks = await session.scalar(
        select(Chunk.id).where(Chunk.document_id == document.id).limit(1)
    )
    if has_chunks is None:
        return
    await session.execute(
        text(
            """
            UPDATE document_lexeme_stats AS s SET df = s.df - d.n
            FROM (
                SELECT x.lexeme, count(*) AS n
                FROM document_chunks AS c, unnest(c.tsv) AS x
                WHERE c.document_id = :doc GROUP BY x.lexeme ORDER BY x.lexeme
            ) AS d
            WHERE s.scope = :scope AND s.lexeme = d.lexeme
            """
        ),
        params,
    )
    await session.execute(
        text(
            """
            DELETE FROM document_lexeme_stats
            WHERE scope = :scope AND df <= 0 AND lexeme IN (
                SELECT x.lexeme FROM document_chunks AS c, unnest(c.tsv) AS x
                WHERE c.document_id = :doc
            )
            """
        ),
        params,
    )
    await session.execute(
        text(
            """
            UPDATE document_scope_stats AS s
            SET chunks = s.chunks - d.n, total_length = s.total_length - d.len
            FROM (
                SELECT count(*) AS n, coalesce(sum(length), 0) AS len
                FROM document_chunks WHERE document_id = :doc
            ) AS d
            WHERE s.scope = :scope
            """
        ),
        params,
    )
    await session.execute(delete(Chunk).where(Chunk.document_id == document.id))


async def replace_chunks(
    session: AsyncSession,
    document: Document,
    drafts: Sequence[ChunkDraft],
    vectors: Sequence[Sequence[float]] | None,
    model: str | None,
) -> None:
    """Swap the document's chunks for `drafts` (with their vectors, if any) and update the
    scope's statistics, all in the caller's transaction: three statements and one COPY
    whatever the number of chunks."""
    await remove_chunks(session, document)
    if not drafts:
        return
    if vectors is not None and len(vectors) != len(drafts):
        raise ValueError(f"{len(drafts)} chunks but {len(vectors)} vectors")
    records = [
        (
            draft.ordinal,
            draft.page,
            draft.section,
            draft.text,
            list(vectors[i]) if vectors is not None else None,
        )
        for i, draft in enumerate(drafts)
    ]
    await session.execute(text(_CREATE_STAGING))
    driver = await _driver_connection(session)
    await driver.copy_records_to_table(STAGING, records=records, columns=_STAGING_COLUMNS)
    await session.execute(
        text(_MOVE_STAGED), {"doc": document.id, "scope": document.scope, "model": model}
    )


async def _driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, inside the session's transaction (COPY
    has no SQLAlchemy form)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def set_embeddings(
    session: AsyncSession, chunk_ids: Sequence[int], vectors: Sequence[Sequence[float]], model: str
) -> None:
    """Store new vectors for existing chunks (chunks replaced meanwhile are skipped)."""
    await session.execute(
        text(
            """
            UPDATE document_chunks SET embedding = CAST(:embedding AS vector),
                embedding_model = :model, embedding_dim = :dim
            WHERE id = :id
            """
        ),
        [
            {"id": chunk_id, "embedding": _vector_text(v), "model": model, "dim": len(v)}
            for chunk_id, v in zip(chunk_ids, vectors, strict=True)
        ],
    )


def _vector_text(vector: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"
