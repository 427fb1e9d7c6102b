"""segments: saved contact filters whose condition is a JSONLogic document

Names are unique ignoring case (``uq_segments_name`` on ``lower(name)``); the condition
is kept as given and compiled to SQL when read (``crm.segments``).

Revision ID: t0017
Revises: t0016
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0017"
down_revision = "t0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("condition", postgresql.JSONB(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_segments"),
    )
    op.create_index("uq_segments_name", "segments", [sa.text("lower(name)")], unique=True)


def downgrade() -> None:
    op.drop_index("uq_segments_name", "segments")
    op.drop_table("segments")
