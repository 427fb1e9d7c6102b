"""assignment: automatic assignment: policies, availability, capacity

Revision ID: t0007
Revises: t0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "t0007"
down_revision = "t0006"
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "assignment_policies",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("last_assignee_id", sa.Uuid(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("channel_id", name="pk_assignment_policies"),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name="fk_assignment_policies_channel_id_channels",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "mode IN ('manual', 'round_robin', 'least_loaded')",
            name="ck_assignment_policies_mode",
        ),
        sa.CheckConstraint("capacity >= 1", name="ck_assignment_policies_capacity"),
    )
    op.create_table(
        "agent_availability",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("user_id", name="pk_agent_availability"),
        sa.CheckConstraint(
            "status IN ('online', 'away', 'offline')", name="ck_agent_availability_status"
        ),
        sa.CheckConstraint("capacity >= 0", name="ck_agent_availability_capacity"),
    )


def downgrade() -> None:
    op.drop_table("agent_availability")
    op.drop_table("assignment_policies")
