"""contacts: soft delete (``deleted_at``) and merging (``merged_into_id``)

A deleted contact keeps its row until the retention period ends (then the workers purge
it, see ``crm.retention``), so its email and phone must be free for another contact
meanwhile: the unique constraints become unique indexes of the same names over the
contacts not deleted. The names stay, so a clash still names ``uq_contacts_email`` or
``uq_contacts_phone`` (``crm.service``). Going down fails while a deleted contact shares
an email or phone with another: purge or restore it first.

Revision ID: t0016
Revises: t0015
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "t0016"
down_revision = "t0015"
branch_labels = None
depends_on = None

UNIQUE = ("email", "phone")
LIVE = sa.text("deleted_at IS NULL")


def upgrade() -> None:
    op.add_column("contacts", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("contacts", sa.Column("merged_into_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        "fk_contacts_merged_into_id_contacts",
        "contacts",
        "contacts",
        ["merged_into_id"],
        ["id"],
        ondelete="SET NULL",
    )
    for field in UNIQUE:
        op.drop_constraint(f"uq_contacts_{field}", "contacts", type_="unique")
        op.create_index(
            f"uq_contacts_{field}", "contacts", [field], unique=True, postgresql_where=LIVE
        )
    op.create_index(
        "ix_contacts_deleted_at",
        "contacts",
        ["deleted_at"],
        postgresql_where=sa.text("deleted_at IS NOT NULL"),
    )
    op.create_index(
        "ix_contacts_merged_into_id",
        "contacts",
        ["merged_into_id"],
        postgresql_where=sa.text("merged_into_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_contacts_merged_into_id", "contacts")
    op.drop_index("ix_contacts_deleted_at", "contacts")
    for field in reversed(UNIQUE):
        op.drop_index(f"uq_contacts_{field}", "contacts")
        op.create_unique_constraint(f"uq_contacts_{field}", "contacts", [field])
    op.drop_constraint("fk_contacts_merged_into_id_contacts", "contacts", type_="foreignkey")
    op.drop_column("contacts", "merged_into_id")
    op.drop_column("contacts", "deleted_at")
