"""reading: mentions and per-agent read state

Revision ID: t0009
Revises: t0008
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "t0009"
down_revision = "t0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("body_html", sa.Text(), nullable=True))
    op.create_table(
        "message_mentions",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id", "user_id", name="pk_message_mentions"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name="fk_message_mentions_message_id_messages",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_message_mentions_conversation_id_conversations",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_message_mentions_conversation_id", "message_mentions", ["conversation_id"])
    op.create_index(
        "ix_message_mentions_user_id_conversation_id",
        "message_mentions",
        ["user_id", "conversation_id"],
    )
    op.create_table(
        "conversation_reads",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("last_read_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "user_id", name="pk_conversation_reads"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_conversation_reads_conversation_id_conversations",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("conversation_reads")
    op.drop_table("message_mentions")
    op.drop_column("messages", "body_html")
