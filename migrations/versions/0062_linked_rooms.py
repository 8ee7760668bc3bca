"""rooms: linked rooms (chats on several platforms sharing one room), link codes, relay

Revision ID: 0062_linked_rooms
Revises: 0061_rooms_solo_study
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0062_linked_rooms"
down_revision: str | Sequence[str] | None = "0061_rooms_solo_study"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "linked_chats",
        sa.Column("chat_room_id", sa.BigInteger(), nullable=False),
        sa.Column("room_id", sa.BigInteger(), nullable=False),
        sa.Column("linked_by", sa.BigInteger(), nullable=True),
        sa.Column(
            "linked_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("chat_room_id <> room_id", name=op.f("ck_linked_chats_not_itself")),
        sa.ForeignKeyConstraint(
            ["chat_room_id"],
            ["rooms.id"],
            name=op.f("fk_linked_chats_chat_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_linked_chats_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["linked_by"],
            ["users.id"],
            name=op.f("fk_linked_chats_linked_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("chat_room_id", name=op.f("pk_linked_chats")),
    )
    op.create_index(op.f("ix_linked_chats_room_id"), "linked_chats", ["room_id"], unique=False)
    op.create_table(
        "room_link_codes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("room_id", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["room_id"],
            ["rooms.id"],
            name=op.f("fk_room_link_codes_room_id_rooms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_room_link_codes_created_by_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_link_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_room_link_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_room_link_codes_room_id"), "room_link_codes", ["room_id"], unique=False
    )
    op.add_column(
        "room_settings",
        sa.Column("relay", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("room_settings", "relay")
    op.drop_index(op.f("ix_room_link_codes_room_id"), table_name="room_link_codes")
    op.drop_table("room_link_codes")
    op.drop_index(op.f("ix_linked_chats_room_id"), table_name="linked_chats")
    op.drop_table("linked_chats")
