"""activity: conversation timelines; teams on channel inboxes; automation as audit actor

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
    op.create_table(
        "channel_teams",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "team_id", name="pk_channel_teams"),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name="fk_channel_teams_channel_id_channels",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name="fk_channel_teams_team_id_teams", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_channel_teams_team_id", "channel_teams", ["team_id"])
    op.drop_constraint("ck_audit_log_actor_type", "audit_log", type_="check")
    op.create_check_constraint("ck_audit_log_actor_type", "audit_log", ACTORS)


def downgrade() -> None:
    op.drop_constraint("ck_audit_log_actor_type", "audit_log", type_="check")
    op.create_check_constraint(
        "ck_audit_log_actor_type", "audit_log", "actor_type IN ('user', 'api_token', 'system')"
    )
    op.drop_table("channel_teams")
    op.drop_table("conversation_activities")
