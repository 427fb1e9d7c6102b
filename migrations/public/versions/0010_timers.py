"""timers: due moments fired by the relay (SLA warnings and breaches, snooze wake-ups)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "timers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_timers"),
        schema="public",
    )
    op.create_index(
        "ix_timers_due",
        "timers",
        ["due_at"],
        schema="public",
        postgresql_where=sa.text("fired_at IS NULL"),
    )
    op.create_index(
        "ix_timers_pending_subject",
        "timers",
        ["account_id", "kind", "subject_id"],
        unique=True,
        schema="public",
        postgresql_where=sa.text("fired_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("timers", schema="public")
