"""tasks: snoozed task reminders, and task changes /undo can take back

Revision ID: 0011_snooze_and_undo
Revises: 0010_tasks
Create Date: 2026-12-03 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011_snooze_and_undo"
down_revision: str | Sequence[str] | None = "0010_tasks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("reminders", sa.Column("task_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_reminders_task_id_tasks"),
        "reminders",
        "tasks",
        ["task_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(op.f("ix_reminders_task_id"), "reminders", ["task_id"], unique=False)
    op.create_table(
        "task_undo",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_task_undo_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_undo")),
    )
    op.create_index(op.f("ix_task_undo_user_id"), "task_undo", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_task_undo_user_id"), table_name="task_undo")
    op.drop_table("task_undo")
    op.drop_index(op.f("ix_reminders_task_id"), table_name="reminders")
    op.drop_constraint(op.f("fk_reminders_task_id_tasks"), "reminders", type_="foreignkey")
    op.drop_column("reminders", "task_id")
