"""user fields for verification, MFA, avatars and soft delete

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (
    ("avatar_url", sa.String(2048)),
    ("email_verified_at", sa.DateTime(timezone=True)),
    ("password_changed_at", sa.DateTime(timezone=True)),
    ("mfa_secret", sa.String(64)),
    ("mfa_enabled_at", sa.DateTime(timezone=True)),
    ("deleted_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("users", sa.Column(name, type_, nullable=True), schema="public")


def downgrade() -> None:
    for name, _ in reversed(COLUMNS):
        op.drop_column("users", name, schema="public")
