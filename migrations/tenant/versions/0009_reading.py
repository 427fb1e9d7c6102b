"""reading: mentions and per-agent read state

Revision ID: t0009
Revises: t0008
Create Date: 2026-11-29
"""

revision = "t0009"
down_revision = "t0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
