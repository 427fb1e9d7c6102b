"""automation: time-based rules, signed webhooks, logged misses; muted conversations

Revision ID: t0012
Revises: t0011
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0012"
down_revision = "t0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "automation_rules",
        sa.Column("log_misses", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "conversations",
        sa.Column("muted", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "automation_schedule_fired",
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("anchor", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "conversation_id", "rule_id", "anchor", name="pk_automation_schedule_fired"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_automation_schedule_fired_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["automation_rules.id"],
            name="fk_automation_schedule_fired_rule_id_automation_rules",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "automation_signing_keys",
        sa.Column("slot", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("slot", name="pk_automation_signing_keys"),
        sa.CheckConstraint("slot IN (1, 2)", name="ck_automation_signing_keys_slot"),
    )
    op.create_table(
        "automation_webhook_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=True),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("event_name", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_automation_webhook_deliveries"),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["automation_rules.id"],
            name="fk_automation_webhook_deliveries_rule_id_automation_rules",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')",
            name="ck_automation_webhook_deliveries_status",
        ),
    )
    op.create_index(
        "ix_automation_webhook_deliveries_created_at",
        "automation_webhook_deliveries",
        ["created_at"],
    )
    op.create_index(
        "ix_automation_webhook_deliveries_rule", "automation_webhook_deliveries", ["rule_id"]
    )


def downgrade() -> None:
    op.drop_table("automation_webhook_deliveries")
    op.drop_table("automation_signing_keys")
    op.drop_table("automation_schedule_fired")
    op.drop_column("conversations", "muted")
    op.drop_column("automation_rules", "log_misses")
