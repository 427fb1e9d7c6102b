"""sla: SLA policies, business hours and tracking

Revision ID: t0008
Revises: t0007
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0008"
down_revision = "t0007"
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(1000), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("hours", sa.String(16), nullable=False),
        sa.Column("targets", postgresql.JSONB(), nullable=False),
        sa.Column("warning", postgresql.JSONB(), nullable=True),
        sa.Column("conditions", postgresql.JSONB(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_sla_policies"),
        sa.UniqueConstraint("name", name="uq_sla_policies_name"),
        sa.CheckConstraint("hours IN ('business', 'calendar')", name="ck_sla_policies_hours"),
    )
    op.create_table(
        "holidays",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_holidays"),
        sa.UniqueConstraint("date", name="uq_holidays_date"),
    )
    op.create_table(
        "conversation_slas",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=True),
        sa.Column("explicit", sa.Boolean(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_conversation_slas"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_conversation_slas_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name="fk_conversation_slas_policy_id_sla_policies",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_conversation_slas_policy_id", "conversation_slas", ["policy_id"])
    op.create_table(
        "conversation_sla_targets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("elapsed_seconds", sa.Integer(), nullable=False),
        sa.Column("running_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_conversation_sla_targets"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_conversation_sla_targets_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name="fk_conversation_sla_targets_policy_id_sla_policies",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "target IN ('first_response', 'next_response', 'resolution')",
            name="ck_conversation_sla_targets_target",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'hit', 'missed')", name="ck_conversation_sla_targets_status"
        ),
    )
    op.create_index(
        "ix_conversation_sla_targets_conversation_id",
        "conversation_sla_targets",
        ["conversation_id"],
    )
    op.create_index(
        "ix_conversation_sla_targets_active",
        "conversation_sla_targets",
        ["conversation_id", "target"],
        unique=True,
        postgresql_where=sa.text("completed_at IS NULL"),
    )
    op.create_index(
        "ix_conversation_sla_targets_report",
        "conversation_sla_targets",
        ["policy_id", "started_at"],
    )


def downgrade() -> None:
    op.drop_table("conversation_sla_targets")
    op.drop_table("conversation_slas")
    op.drop_table("holidays")
    op.drop_table("sla_policies")
