"""Tenant tables of contact imports: the import itself (its file's layout, the mapping,
the checkpoint and counters) and the rows it refused."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import TenantBase, Timestamps, UuidPrimaryKey

#: Uploaded, mapping to check; queued for a worker; being imported; and the three ends.
PENDING, QUEUED, RUNNING = "pending", "queued", "running"
COMPLETED, FAILED, CANCELLED = "completed", "failed", "cancelled"
STATUSES = (PENDING, QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED)
#: Imports a worker may still be asked to carry on.
UNFINISHED = (PENDING, QUEUED, RUNNING)
#: What a row matching an existing contact (or an earlier row) does.
SKIP, UPDATE, CREATE = "skip", "update", "create"
POLICIES = (SKIP, UPDATE, CREATE)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ContactImport(UuidPrimaryKey, Timestamps, TenantBase):
    __tablename__ = "contact_imports"
    __table_args__ = (
        CheckConstraint(_one_of("status", STATUSES), name="status"),
        CheckConstraint(_one_of("duplicates", POLICIES), name="duplicates"),
    )

    #: The uploaded CSV (crm.files); deleted once the import ends, or when it expires.
    file_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("stored_files.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    #: How the file reads (crm.imports.reading): ``utf-8-sig`` or ``cp1252``, and
    #: ``,``, ``;`` or a tab.
    encoding: Mapped[str] = mapped_column(String(16))
    delimiter: Mapped[str] = mapped_column(String(1))
    #: The header row's names, in file order.
    headers: Mapped[list[str]] = mapped_column(JSONB)
    #: ``{header: target}`` for each header (``None``: ignored); see crm.imports.mapping.
    mapping: Mapped[dict[str, str | None]] = mapped_column(JSONB)
    duplicates: Mapped[str] = mapped_column(String(8), default=SKIP)
    #: The first data rows as read, for a mapping screen.
    samples: Mapped[list[list[str]]] = mapped_column(JSONB)
    #: Data rows (blank ones not counted), and the checkpoint: rows done so far.
    total_rows: Mapped[int] = mapped_column(Integer)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    #: Runs started since the checkpoint last moved: a worker dying on the same batch again
    #: and again gives up at crm.imports.runner.MAX_ATTEMPTS.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Why it failed.
    error: Mapped[str | None] = mapped_column(String(500))
    #: Who imports: the user (their sockets hear the progress), and the actor the audit
    #: log names (the user, or the API token they used).
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RejectedRow(TenantBase):
    """A data row the import refused, as it was read, and why (the error report)."""

    __tablename__ = "contact_import_errors"

    import_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("contact_imports.id", ondelete="CASCADE"), primary_key=True
    )
    #: As a spreadsheet numbers it: the header is row 1.
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    cells: Mapped[list[str]] = mapped_column(JSONB)
    #: ``{field: [messages]}``, fields named as the contact API names them.
    errors: Mapped[dict[str, Any]] = mapped_column(JSONB)
