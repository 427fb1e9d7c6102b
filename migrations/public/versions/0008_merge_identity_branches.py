"""merge the identity branches (sessions, one-time tokens, members/roles, API tokens)

Revision ID: 0008
Revises: 0004, 0005, 0006, 0007
Create Date: 2026-11-29
"""

revision = "0008"
down_revision = ("0004", "0005", "0006", "0007")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
