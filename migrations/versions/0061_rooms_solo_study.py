"""rooms: solo focus sessions (a person instead of a room, pause) and study subjects

Revision ID: 0061_rooms_solo_study
Revises: 0060_rooms
Create Date: 2026-12-03 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0061_rooms_solo_study"
down_revision: str | Sequence[str] | None = "0060_rooms"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("focus_sessions", "room_id", existing_type=sa.BigInteger(), nullable=True)
    op.add_column("focus_sessions", sa.Column("user_id", sa.BigInteger(), nullable=True))
    op.add_column("focus_sessions", sa.Column("subject", sa.String(length=40), nullable=True))
    op.add_column(
        "focus_sessions", sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_foreign_key(
        op.f("fk_focus_sessions_user_id_users"),
        "focus_sessions",
        "users",
        ["user_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_check_constraint(
        op.f("ck_focus_sessions_room_or_user"),
        "focus_sessions",
        "(room_id IS NULL) <> (user_id IS NULL)",
    )
    op.create_index(
        "ix_focus_sessions_one_running_per_user",
        "focus_sessions",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("phase <> 'done' AND user_id IS NOT NULL"),
    )
    op.add_column("study_sessions", sa.Column("subject", sa.String(length=40), nullable=True))


def downgrade() -> None:
    op.drop_column("study_sessions", "subject")
    op.drop_index("ix_focus_sessions_one_running_per_user", table_name="focus_sessions")
    op.drop_constraint(op.f("ck_focus_sessions_room_or_user"), "focus_sessions", type_="check")
    op.drop_constraint(
        op.f("fk_focus_sessions_user_id_users"), "focus_sessions", type_="foreignkey"
    )
    op.execute("DELETE FROM focus_sessions WHERE room_id IS NULL")
    op.drop_column("focus_sessions", "paused_at")
    op.drop_column("focus_sessions", "subject")
    op.drop_column("focus_sessions", "user_id")
    op.alter_column("focus_sessions", "room_id", existing_type=sa.BigInteger(), nullable=False)
