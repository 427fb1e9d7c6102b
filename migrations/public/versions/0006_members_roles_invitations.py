"""custom roles per account, members' custom role, invitations

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None

member_role = postgresql.ENUM("owner", "admin", "agent", name="member_role", create_type=False)


def upgrade() -> None:
    op.create_table(
        "account_roles",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("permissions", postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["public.accounts.id"],
            name="fk_account_roles_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_account_roles"),
        sa.UniqueConstraint("account_id", "name", name="uq_account_roles_account_id_name"),
        schema="public",
    )
    op.add_column(
        "memberships", sa.Column("custom_role_id", sa.Uuid(), nullable=True), schema="public"
    )
    op.create_foreign_key(
        "fk_memberships_custom_role_id_account_roles",
        "memberships",
        "account_roles",
        ["custom_role_id"],
        ["id"],
        source_schema="public",
        referent_schema="public",
        ondelete="RESTRICT",
    )
    op.create_index(
        "ix_memberships_custom_role_id", "memberships", ["custom_role_id"], schema="public"
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", member_role, nullable=False),
        sa.Column("custom_role_id", sa.Uuid(), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("invited_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("send_count", sa.Integer(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["public.accounts.id"],
            name="fk_invitations_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["custom_role_id"],
            ["public.account_roles.id"],
            name="fk_invitations_custom_role_id_account_roles",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["public.users.id"],
            name="fk_invitations_invited_by_users",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["accepted_by"],
            ["public.users.id"],
            name="fk_invitations_accepted_by_users",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
        schema="public",
    )
    op.create_index(
        "ix_invitations_custom_role_id", "invitations", ["custom_role_id"], schema="public"
    )
    op.create_index(
        "uq_invitations_open_account_email",
        "invitations",
        ["account_id", "email"],
        unique=True,
        schema="public",
        postgresql_where=sa.text("accepted_at IS NULL AND revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("invitations", schema="public")
    op.drop_index("ix_memberships_custom_role_id", table_name="memberships", schema="public")
    op.drop_constraint(
        "fk_memberships_custom_role_id_account_roles", "memberships", schema="public"
    )
    op.drop_column("memberships", "custom_role_id", schema="public")
    op.drop_table("account_roles", schema="public")
