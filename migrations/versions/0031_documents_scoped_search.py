"""documents: the full-text index narrows by scope first (composite GIN on scope, tsv)

The BM25 query filters by scope; with a GIN index on `tsv` alone PostgreSQL read every
chunk of every user that matched any query term before dropping the other scopes. A GIN
index on (scope, tsv), through `btree_gin`, intersects the scope's postings with the
terms' inside the index. The tsv-only index is dropped: every query is scoped.

Revision ID: 0031_documents_scoped_search
Revises: 0030_documents
Create Date: 2026-12-03 09:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0031_documents_scoped_search"
down_revision: str | Sequence[str] | None = "0030_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # btree_gin is a trusted extension (PostgreSQL 13+): the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.create_index(
        "ix_document_chunks_scope_tsv",
        "document_chunks",
        ["scope", "tsv"],
        unique=False,
        postgresql_using="gin",
    )
    op.drop_index("ix_document_chunks_tsv", table_name="document_chunks", postgresql_using="gin")


def downgrade() -> None:
    op.create_index(
        "ix_document_chunks_tsv", "document_chunks", ["tsv"], unique=False, postgresql_using="gin"
    )
    op.drop_index(
        "ix_document_chunks_scope_tsv", table_name="document_chunks", postgresql_using="gin"
    )
