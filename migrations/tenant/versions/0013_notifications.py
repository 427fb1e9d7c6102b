"""notifications: agents' mentions, assignments and new messages, read or unread

Revision ID: t0013
Revises: t0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0013"
down_revision = "t0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("actor_type", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.UniqueConstraint("event_id", "user_id", name="uq_notifications_event_id_user_id"),
        sa.CheckConstraint(
            "type IN ('mention', 'assigned', 'new_message_in_assigned')",
            name="ck_notifications_type",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_notifications_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_notifications_message_id_messages",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_notifications_conversation_id", "notifications", ["conversation_id"])
    op.create_index(
        "ix_notifications_user_id_created_at", "notifications", ["user_id", "created_at", "id"]
    )
    op.create_index(
        "ix_notifications_unread",
        "notifications",
        ["user_id", "created_at", "id"],
        postgresql_where=sa.text("read_at IS NULL"),
    )
    op.create_index("ix_notifications_read_at", "notifications", ["read_at"])


def downgrade() -> None:
    op.drop_table("notifications")
