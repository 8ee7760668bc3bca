"""insights: indexes for the badge sweep: "who was active in the last two hours", and
each active student's finished tasks

Without them each sweep reads every review, study session and task (sequential scans);
see docs/insights.md for the plans at 100,000 students.

Revision ID: 0093_badge_sweep_index
Revises: 0092_weekly_reports
Create Date: 2026-12-03 15:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0093_badge_sweep_index"
down_revision: str | Sequence[str] | None = "0092_weekly_reports"
branch_labels: str | Sequence[str] | None = None
# The tables indexed come from these branches.
depends_on: str | Sequence[str] | None = ("0010_tasks", "0020_flashcards", "0060_rooms")


def upgrade() -> None:
    op.execute("CREATE INDEX ix_flashcard_reviews_reviewed_at ON flashcard_reviews (reviewed_at)")
    op.execute(
        "CREATE INDEX ix_study_sessions_last_active ON study_sessions "
        "(coalesce(ended_at, last_seen_at, started_at))"
    )
    op.execute(
        "CREATE INDEX ix_tasks_completed_at ON tasks (completed_at) WHERE completed_at IS NOT NULL"
    )
    # Each active student's finished tasks (their badge milestones), by whoever finished it.
    op.execute(
        "CREATE INDEX ix_tasks_finisher_completed ON tasks "
        "(coalesce(completed_by_user_id, user_id), completed_at) WHERE completed_at IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_tasks_finisher_completed")
    op.execute("DROP INDEX ix_tasks_completed_at")
    op.execute("DROP INDEX ix_study_sessions_last_active")
    op.execute("DROP INDEX ix_flashcard_reviews_reviewed_at")
