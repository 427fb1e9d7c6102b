"""contact imports: files stored in the tenant's schema, imports, and their refused rows

Files (``crm.files``) are kept as 1 MiB ``bytea`` chunks, so a process writes and reads
one without holding it whole. An import (``crm.imports``) keeps its checkpoint
(``rows_done`` and the counters) with the rows it wrote; ``contact_import_errors`` holds
the rows it refused, for the error report.

Revision ID: t0018
Revises: t0017
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "t0018"
down_revision = "t0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stored_files",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_stored_files"),
    )
    op.create_index(
        "ix_stored_files_expires_at",
        "stored_files",
        ["expires_at"],
        postgresql_where=sa.text("expires_at IS NOT NULL"),
    )
    op.create_table(
        "stored_file_chunks",
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("file_id", "seq", name="pk_stored_file_chunks"),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["stored_files.id"],
            name="fk_stored_file_chunks_file_id_stored_files",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "contact_imports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("file_id", sa.Uuid(), nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("encoding", sa.String(16), nullable=False),
        sa.Column("delimiter", sa.String(1), nullable=False),
        sa.Column("headers", postgresql.JSONB(), nullable=False),
        sa.Column("mapping", postgresql.JSONB(), nullable=False),
        sa.Column("duplicates", sa.String(8), nullable=False),
        sa.Column("samples", postgresql.JSONB(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("actor_type", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_contact_imports"),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["stored_files.id"],
            name="fk_contact_imports_file_id_stored_files",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'queued', 'running', 'completed', 'failed', 'cancelled')",
            name="ck_contact_imports_status",
        ),
        sa.CheckConstraint(
            "duplicates IN ('skip', 'update', 'create')", name="ck_contact_imports_duplicates"
        ),
    )
    op.create_table(
        "contact_import_errors",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("cells", postgresql.JSONB(), nullable=False),
        sa.Column("errors", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("import_id", "row_number", name="pk_contact_import_errors"),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["contact_imports.id"],
            name="fk_contact_import_errors_import_id_contact_imports",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("contact_import_errors")
    op.drop_table("contact_imports")
    op.drop_table("stored_file_chunks")
    op.drop_index("ix_stored_files_expires_at", "stored_files")
    op.drop_table("stored_files")
