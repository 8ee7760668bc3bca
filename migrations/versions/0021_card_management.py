"""flashcards: suspended cards, and what a review grade changed (for /undo)

Revision ID: 0021_card_management
Revises: 0020_flashcards
Create Date: 2026-12-03 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021_card_management"
down_revision: str | Sequence[str] | None = "0020_flashcards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "flashcard_states",
        sa.Column("suspended", sa.Boolean(), server_default="false", nullable=False),
    )
    op.create_table(
        "flashcard_undo",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("card_id", sa.BigInteger(), nullable=False),
        sa.Column("review_id", sa.BigInteger(), nullable=False),
        sa.Column("session_id", sa.BigInteger(), nullable=True),
        sa.Column("state_before", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["flashcard_cards.id"],
            name=op.f("fk_flashcard_undo_card_id_flashcard_cards"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["flashcard_reviews.id"],
            name=op.f("fk_flashcard_undo_review_id_flashcard_reviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_flashcard_undo_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flashcard_undo")),
    )
    op.create_index(op.f("ix_flashcard_undo_user_id"), "flashcard_undo", ["user_id"], unique=False)
    op.create_index(
        op.f("ix_flashcard_undo_review_id"), "flashcard_undo", ["review_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_flashcard_undo_review_id"), table_name="flashcard_undo")
    op.drop_index(op.f("ix_flashcard_undo_user_id"), table_name="flashcard_undo")
    op.drop_table("flashcard_undo")
    op.drop_column("flashcard_states", "suspended")
