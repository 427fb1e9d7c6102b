"""The account registry and memberships, both in the public schema."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import DateTime, Enum, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import PublicBase, UuidPrimaryKey, utcnow


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DELETED = "deleted"


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    AGENT = "agent"


class Account(UuidPrimaryKey, PublicBase):
    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    schema_name: Mapped[str] = mapped_column(String(63), unique=True)
    status: Mapped[AccountStatus] = mapped_column(
        Enum(AccountStatus, name="account_status", values_callable=lambda e: [m.value for m in e]),
        default=AccountStatus.ACTIVE,
    )
    plan: Mapped[str] = mapped_column(String(40), default="free")
    #: The tenant migration head this account's schema is at; lets "is anything
    #: pending?" be one query over the registry instead of one per schema.
    schema_revision: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Membership(PublicBase):
    __tablename__ = "memberships"

    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="member_role", values_callable=lambda e: [m.value for m in e])
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
