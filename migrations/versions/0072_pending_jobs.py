"""maintenance: pending_jobs, jobs recorded with the transaction that asked for them

Revision ID: 0072_pending_jobs
Revises: 0071_outbox_retention
Create Date: 2026-12-03 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0072_pending_jobs"
down_revision: str | Sequence[str] | None = "0071_outbox_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_jobs",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("job", sa.String(length=200), nullable=False),
        sa.Column("kwargs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "sent_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("sends", sa.Integer(), nullable=False),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_jobs")),
    )
    op.create_index(op.f("ix_pending_jobs_done_at"), "pending_jobs", ["done_at"], unique=False)
    # The relay scans only unfinished jobs.
    op.create_index(
        "ix_pending_jobs_unfinished",
        "pending_jobs",
        ["id"],
        unique=False,
        postgresql_where=sa.text("done_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_pending_jobs_unfinished", table_name="pending_jobs")
    op.drop_index(op.f("ix_pending_jobs_done_at"), table_name="pending_jobs")
    op.drop_table("pending_jobs")
