"""analytics: the daily activity rollup, backfilled from the tables it summarises

Revision ID: 0100_daily_activity
Revises: 0001_foundation
Create Date: 2026-12-03 15:00:00.000000

Each day is the date in the user's time zone now (as /stats computed it before). The
sources are those the capabilities declare in `core.app` at this revision; they are
written out here so that this migration keeps meaning the same thing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0100_daily_activity"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = ("analytics",)
# The revisions that create the tables and columns the backfill reads. (Not the heads of
# those branches: depending on several current heads makes Alembic treat this as a merge.)
depends_on: str | Sequence[str] | None = (
    "0010_tasks",
    "0020_flashcards",
    "0030_documents",
    "0040_tutor",
    "0060_rooms",
)

MEASURES = (
    "study_minutes",
    "cards_reviewed",
    "cards_kept",
    "tasks_done",
    "tasks_added",
    "reminders_set",
    "decks_made",
    "documents_added",
    "tutor_work",
)
# (table, owner column, timestamp, measure, amount, condition)
SOURCES = (
    ("study_sessions", "user_id", "started_at", "study_minutes", "minutes", "true"),
    ("flashcard_reviews", "user_id", "reviewed_at", "cards_reviewed", "1", "true"),
    ("flashcard_reviews", "user_id", "reviewed_at", "cards_kept", "1", "rating > 1"),
    ("tasks", "user_id", "completed_at", "tasks_done", "1", "true"),
    ("tasks", "user_id", "created_at", "tasks_added", "1", "true"),
    ("reminders", "user_id", "created_at", "reminders_set", "1", "true"),
    ("flashcard_decks", "owner_id", "created_at", "decks_made", "1", "true"),
    ("documents", "owner_user_id", "created_at", "documents_added", "1", "true"),
    ("tutor_quizzes", "user_id", "created_at", "tutor_work", "1", "true"),
    ("tutor_card_drafts", "user_id", "created_at", "tutor_work", "1", "true"),
)


def upgrade() -> None:
    op.create_table(
        "daily_activity",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), server_default="0", nullable=False) for name in MEASURES),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_daily_activity_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_daily_activity")),
    )
    for statement in backfill():
        op.execute(statement)


def backfill() -> list[str]:
    """One INSERT ... SELECT per source, adding to the day rows the others wrote."""
    return [
        f"INSERT INTO daily_activity (user_id, day, {measure})"
        " SELECT s.owner, (timezone(u.timezone, s.stamp))::date, sum(s.amount)"
        f" FROM (SELECT {owner} AS owner, {stamp} AS stamp, {amount} AS amount"
        f" FROM {table} WHERE {stamp} IS NOT NULL AND {condition}) s"
        " JOIN users u ON u.id = s.owner"
        " GROUP BY 1, 2"
        " ON CONFLICT (user_id, day) DO UPDATE"
        f" SET {measure} = daily_activity.{measure} + excluded.{measure}"
        for table, owner, stamp, measure, amount, condition in SOURCES
    ]


def downgrade() -> None:
    op.drop_table("daily_activity")
