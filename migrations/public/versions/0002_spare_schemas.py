"""spare tenant schemas, made ahead for fast sign-ups

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spare_schemas",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("revision", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_spare_schemas"),
        schema="public",
    )


def downgrade() -> None:
    # The spare schemas themselves go with their rows: nothing else knows about them.
    bind = op.get_bind()
    for name in bind.execute(sa.text("SELECT name FROM public.spare_schemas")).scalars():
        if re.fullmatch(r"s_[0-9a-f]{32}", name):
            op.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    op.drop_table("spare_schemas", schema="public")
