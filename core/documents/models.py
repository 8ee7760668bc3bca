"""Documents, their chunks, and the per-scope term statistics that BM25 ranking reads.

A scope is who owns a document: `u:<user id>` or `r:<room id>`. Chunks repeat their
document's scope so retrieval filters one indexed column.

Vectors: `embedding` is a pgvector column without a fixed dimension; each chunk records the
model and dimension it was embedded with. HNSW needs a fixed dimension, so the migration
creates partial expression indexes `(embedding::vector(N)) WHERE embedding_dim = N` for
the common sizes (384, 768, 1024, 1536); another size still works through exact search.
Full text: a GIN index on (scope, tsv), so a search narrows by scope inside the index.
"""

from __future__ import annotations

from datetime import datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, TimestampMixin

QUEUED = "queued"
PROCESSING = "processing"
READY = "ready"
FAILED = "failed"


class Document(TimestampMixin, Base):
    """One uploaded file, owned by a user or by a room."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("scope", "content_hash"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), index=True)
    owner_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    owner_room_id: Mapped[int | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), index=True
    )
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(8))
    content_hash: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    error: Mapped[str | None] = mapped_column(Text)
    pages: Mapped[int | None] = mapped_column(Integer)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(Text, default="")
    key_concepts: Mapped[list[str]] = mapped_column(ARRAY(String(120)), default=list)
    ingest_runs: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None] = mapped_column()


class DocumentFile(Base):
    """The uploaded bytes, kept apart so listing documents never loads them."""

    __tablename__ = "document_files"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Chunk(Base):
    """A passage of a document: the unit that is indexed, retrieved and cited."""

    __tablename__ = "document_chunks"
    __table_args__ = (
        # Composite GIN (btree_gin): a full-text query reads only its own scope's postings.
        Index("ix_document_chunks_scope_tsv", "scope", "tsv", postgresql_using="gin"),
        Index("ix_document_chunks_scope_model", "scope", "embedding_model"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    scope: Mapped[str] = mapped_column(String(32))
    ordinal: Mapped[int] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer)
    section: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    tsv: Mapped[str] = mapped_column(TSVECTOR)
    # Number of lexeme occurrences in `tsv`: the document length of BM25.
    length: Mapped[int] = mapped_column(Integer, default=0)
    embedding: Mapped[list[float] | None] = mapped_column(Vector())
    embedding_model: Mapped[str | None] = mapped_column(String(200))
    embedding_dim: Mapped[int | None] = mapped_column(Integer)


class ScopeStats(Base):
    """Chunk count and total length per scope (BM25's N and average length)."""

    __tablename__ = "document_scope_stats"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    chunks: Mapped[int] = mapped_column(BigInteger, default=0)
    total_length: Mapped[int] = mapped_column(BigInteger, default=0)


class LexemeStats(Base):
    """In how many chunks of a scope each lexeme occurs (BM25's document frequency)."""

    __tablename__ = "document_lexeme_stats"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    lexeme: Mapped[str] = mapped_column(Text, primary_key=True)
    df: Mapped[int] = mapped_column(Integer, default=0)
