"""tags_merge: tags, conversation custom attributes, merge and split

Revision ID: t0006
Revises: t0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0006"
down_revision = "t0005"
branch_labels = None
depends_on = None

#: Carriers of tags: link table, carrier column, carrier table.
LINKS = (
    ("conversation_tags", "conversation_id", "conversations"),
    ("contact_tags", "contact_id", "contacts"),
)


def upgrade() -> None:
    op.create_table(
        "tags",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("color", sa.String(7), nullable=True),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tags"),
        sa.UniqueConstraint("key", name="uq_tags_key"),
    )
    for table, owner, owners in LINKS:
        op.create_table(
            table,
            sa.Column(owner, sa.Uuid(), nullable=False),
            sa.Column("tag_id", sa.Uuid(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint(owner, "tag_id", name=f"pk_{table}"),
            sa.ForeignKeyConstraint(
                [owner], [f"{owners}.id"], name=f"fk_{table}_{owner}_{owners}", ondelete="CASCADE"
            ),
            sa.ForeignKeyConstraint(
                ["tag_id"], ["tags.id"], name=f"fk_{table}_tag_id_tags", ondelete="CASCADE"
            ),
        )
        op.create_index(f"ix_{table}_tag_id", table, ["tag_id"])
    op.add_column(
        "conversations",
        sa.Column(
            "custom_attributes",
            postgresql.JSONB(),
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
    )
    op.add_column("conversations", sa.Column("merged_into_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        "fk_conversations_merged_into_id_conversations",
        "conversations",
        "conversations",
        ["merged_into_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index("ix_conversations_merged_into_id", "conversations", ["merged_into_id"])


def downgrade() -> None:
    op.drop_index("ix_conversations_merged_into_id", "conversations")
    op.drop_constraint(
        "fk_conversations_merged_into_id_conversations", "conversations", type_="foreignkey"
    )
    op.drop_column("conversations", "merged_into_id")
    op.drop_column("conversations", "custom_attributes")
    for table, _, _ in reversed(LINKS):
        op.drop_table(table)
    op.drop_table("tags")
