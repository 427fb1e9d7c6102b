"""Users live once, in the public schema, and join accounts through memberships."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import PublicBase, Timestamps, UuidPrimaryKey


class User(UuidPrimaryKey, Timestamps, PublicBase):
    __tablename__ = "users"

    #: Stored lower-cased, so uniqueness and log-in ignore case.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Base32 TOTP secret; set at enrolment, trusted only once ``mfa_enabled_at`` is set.
    mfa_secret: Mapped[str | None] = mapped_column(String(64))
    mfa_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Soft delete: the user cannot log in; restorable until the retention period ends.
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
