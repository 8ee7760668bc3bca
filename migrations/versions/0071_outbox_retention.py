"""maintenance: index of delivered outbox rows, for the retention sweep

Revision ID: 0071_outbox_retention
Revises: 0070_maintenance
Create Date: 2026-11-29 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0071_outbox_retention"
down_revision: str | Sequence[str] | None = "0070_maintenance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_delivered_at",
        "outbox",
        ["delivered_at"],
        unique=False,
        postgresql_where=sa.text("delivered_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_delivered_at", table_name="outbox")
