"""web: verified email addresses, API token scopes and expiry, what minted a link code

Revision ID: 0051_account_security
Revises: 0050_web
Create Date: 2026-12-03 08:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0051_account_security"
down_revision: str | Sequence[str] | None = "0050_web"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True)
    )
    # An address without a password came from Google's verified claim (the only other way
    # an email was set): it stays verified. Every password account has to prove its address.
    op.execute(
        "UPDATE users SET email_verified_at = now()"
        " WHERE email IS NOT NULL AND password_hash IS NULL"
    )
    op.add_column(
        "api_tokens",
        sa.Column("scopes", sa.String(length=200), server_default="read write", nullable=False),
    )
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True)))
    op.execute("UPDATE api_tokens SET expires_at = now() + interval '90 days'")
    op.alter_column("api_tokens", "expires_at", nullable=False)
    op.add_column("api_tokens", sa.Column("parent_id", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_api_tokens_parent_id"), "api_tokens", ["parent_id"], unique=False)
    op.add_column("link_codes", sa.Column("token_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("link_codes", "token_id")
    op.drop_index(op.f("ix_api_tokens_parent_id"), table_name="api_tokens")
    op.drop_column("api_tokens", "parent_id")
    op.drop_column("api_tokens", "expires_at")
    op.drop_column("api_tokens", "scopes")
    op.drop_column("users", "email_verified_at")
