"""Tenant tables of the CRM. No schema here: the session's tenant decides it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import TenantBase, Timestamps, UuidPrimaryKey


class Contact(UuidPrimaryKey, Timestamps, TenantBase):
    __tablename__ = "contacts"
    #: GIN: custom-field filters are containment and key tests (see crm.custom_fields).
    __table_args__ = (Index("ix_contacts_custom_fields", "custom_fields", postgresql_using="gin"),)

    name: Mapped[str] = mapped_column(String(200))
    #: Lower-cased on write; unique within the account.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    #: Stored with separators stripped; unique within the account.
    phone: Mapped[str | None] = mapped_column(String(40), unique=True)
    company: Mapped[str | None] = mapped_column(String(200))
    #: ``{key: value}`` for the account's contact custom fields (crm.custom_fields checks
    #: them). Added by t0014: sort_order puts it after the timestamps, as ALTER TABLE did.
    custom_fields: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb"), sort_order=20
    )
