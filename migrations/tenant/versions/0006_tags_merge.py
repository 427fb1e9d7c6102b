"""tags_merge: tags, conversation custom attributes, merge and split

Revision ID: t0006
Revises: t0005
Create Date: 2026-11-29
"""

revision = "t0006"
down_revision = "t0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
