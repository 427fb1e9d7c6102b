"""Tenant tables of the CRM. No schema here: the session's tenant decides it."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import TenantBase, Timestamps, UuidPrimaryKey


class Contact(UuidPrimaryKey, Timestamps, TenantBase):
    __tablename__ = "contacts"

    name: Mapped[str] = mapped_column(String(200))
    #: Lower-cased on write; unique within the account.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    #: Stored with separators stripped; unique within the account.
    phone: Mapped[str | None] = mapped_column(String(40), unique=True)
    company: Mapped[str | None] = mapped_column(String(200))
