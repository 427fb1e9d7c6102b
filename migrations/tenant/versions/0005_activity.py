"""activity: conversation timelines; automation rules as audit actors

Revision ID: t0005
Revises: t0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0005"
down_revision = "t0004"
branch_labels = None
depends_on = None

ACTORS = "actor_type IN ('user', 'api_token', 'automation', 'system')"


def upgrade() -> None:
    op.create_table(
        "conversation_activities",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("actor_type", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("data", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_conversation_activities"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_conversation_activities_conversation_id_conversations",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_conversation_activities_timeline",
        "conversation_activities",
        ["conversation_id", "created_at", "id"],
    )
    op.drop_constraint("ck_audit_log_actor_type", "audit_log", type_="check")
    op.create_check_constraint("ck_audit_log_actor_type", "audit_log", ACTORS)


def downgrade() -> None:
    op.drop_constraint("ck_audit_log_actor_type", "audit_log", type_="check")
    op.create_check_constraint(
        "ck_audit_log_actor_type", "audit_log", "actor_type IN ('user', 'api_token', 'system')"
    )
    op.drop_table("conversation_activities")
