"""sla: SLA policies, business hours and tracking

Revision ID: t0008
Revises: t0007
Create Date: 2026-11-29
"""

revision = "t0008"
down_revision = "t0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
