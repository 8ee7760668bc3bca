"""insights: weekly goals (a user's or a room's) and earned badges

Revision ID: 0091_goals_badges
Revises: 0090_insights
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0091_goals_badges"
down_revision: str | Sequence[str] | None = "0090_insights"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "insight_goals",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("room_id", sa.BigInteger(), nullable=True),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("set_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (room_id IS NULL)", name=op.f("ck_insight_goals_one_owner")
        ),
        sa.CheckConstraint("target > 0", name=op.f("ck_insight_goals_positive_target")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_insight_goals_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_insight_goals_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_user_id"],
            ["users.id"],
            name=op.f("fk_insight_goals_set_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_goals")),
        sa.UniqueConstraint("user_id", "metric", name=op.f("uq_insight_goals_user_id_metric")),
        sa.UniqueConstraint("room_id", "metric", name=op.f("uq_insight_goals_room_id_metric")),
    )
    op.create_table(
        "insight_badges",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("earned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_insight_badges_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_badges")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_insight_badges_user_id_key")),
    )


def downgrade() -> None:
    op.drop_table("insight_badges")
    op.drop_table("insight_goals")
