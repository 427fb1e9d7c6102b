"""custom_fields: per-account field definitions for contacts and conversations, and values

Revision ID: t0014
Revises: t0013
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0014"
down_revision = "t0013"
branch_labels = None
depends_on = None

#: Tables that carry values, each in a ``custom_fields`` JSONB column with a GIN index.
CARRIERS = ("contacts", "conversations")


def upgrade() -> None:
    op.create_table(
        "custom_field_definitions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("entity", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("regex", sa.String(200), nullable=True),
        sa.Column("options", postgresql.JSONB(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_custom_field_definitions"),
        sa.UniqueConstraint("entity", "key", name="uq_custom_field_definitions_entity_key"),
        sa.CheckConstraint(
            "entity IN ('contact', 'conversation')",
            name="ck_custom_field_definitions_entity",
        ),
        sa.CheckConstraint(
            "type IN ('text', 'number', 'date', 'boolean', 'single_select', "
            "'multi_select', 'url', 'email', 'phone')",
            name="ck_custom_field_definitions_type",
        ),
    )
    op.create_index(
        "ix_custom_field_definitions_entity_position",
        "custom_field_definitions",
        ["entity", "position"],
    )
    for table in CARRIERS:
        op.add_column(
            table,
            sa.Column(
                "custom_fields",
                postgresql.JSONB(),
                nullable=False,
                server_default=sa.text("'{}'::jsonb"),
            ),
        )
        op.create_index(
            f"ix_{table}_custom_fields", table, ["custom_fields"], postgresql_using="gin"
        )


def downgrade() -> None:
    for table in reversed(CARRIERS):
        op.drop_index(f"ix_{table}_custom_fields", table)
        op.drop_column(table, "custom_fields")
    op.drop_table("custom_field_definitions")
