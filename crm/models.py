"""Tenant tables of the CRM. No schema here: the session's tenant decides it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, String, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import TenantBase, Timestamps, UuidPrimaryKey

#: The contacts not deleted: only they hold their email and phone (added by t0016).
LIVE = text("deleted_at IS NULL")


class Contact(UuidPrimaryKey, Timestamps, TenantBase):
    __tablename__ = "contacts"
    __table_args__ = (
        #: GIN: custom-field filters are containment and key tests (see crm.custom_fields).
        Index("ix_contacts_custom_fields", "custom_fields", postgresql_using="gin"),
        #: Unique among the contacts not deleted; the names are the conflicts' (crm.service).
        Index("uq_contacts_email", "email", unique=True, postgresql_where=LIVE),
        Index("uq_contacts_phone", "phone", unique=True, postgresql_where=LIVE),
        Index(
            "ix_contacts_deleted_at", "deleted_at", postgresql_where=text("deleted_at IS NOT NULL")
        ),
        Index(
            "ix_contacts_merged_into_id",
            "merged_into_id",
            postgresql_where=text("merged_into_id IS NOT NULL"),
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    #: Lower-cased on write; unique among the account's contacts not deleted.
    email: Mapped[str | None] = mapped_column(String(320))
    #: Stored in E.164; unique among the account's contacts not deleted.
    phone: Mapped[str | None] = mapped_column(String(40))
    company: Mapped[str | None] = mapped_column(String(200))
    #: ``{key: value}`` for the account's contact custom fields (crm.custom_fields checks
    #: them). Added by t0014: sort_order puts it after the timestamps, as ALTER TABLE did.
    custom_fields: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb"), sort_order=20
    )
    #: When it was deleted (restorable until the retention period ends, then purged);
    #: added by t0016, after custom_fields.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), sort_order=30)
    #: The contact it was merged into (it is deleted too); added by t0016.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("contacts.id", ondelete="SET NULL"), sort_order=30
    )
