"""insights: exams and available study hours

Revision ID: 0090_insights
Revises: 0001_foundation
Create Date: 2026-12-03 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0090_insights"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("insights",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "insight_exams",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_given", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_insight_exams_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_exams")),
    )
    op.create_index(
        "ix_insight_exams_user_starts", "insight_exams", ["user_id", "starts_at"], unique=False
    )
    op.create_table(
        "insight_study_hours",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("minutes", sa.ARRAY(sa.Integer()), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_insight_study_hours_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_insight_study_hours")),
    )


def downgrade() -> None:
    op.drop_table("insight_study_hours")
    op.drop_index("ix_insight_exams_user_starts", table_name="insight_exams")
    op.drop_table("insight_exams")
