"""automation runs: the run log of rule evaluations

Revision ID: t0011
Revises: t0010
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0011"
down_revision = "t0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "automation_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("event_name", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("matched", sa.Boolean(), nullable=False),
        sa.Column("conditions", postgresql.JSONB(), nullable=False),
        sa.Column("actions", postgresql.JSONB(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_automation_runs"),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["automation_rules.id"],
            name="fk_automation_runs_rule_id_automation_rules",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_automation_runs_rule", "automation_runs", ["rule_id", "created_at"])
    op.create_index("ix_automation_runs_created_at", "automation_runs", ["created_at"])
    op.create_index("ix_automation_runs_conversation_id", "automation_runs", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("automation_runs")
