"""The account registry and memberships, both in the public schema."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import PublicBase, Timestamps, UuidPrimaryKey, utcnow


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


MEMBER_ROLE = Enum(Role, name="member_role", values_callable=lambda e: [m.value for m in e])


class AccountRole(UuidPrimaryKey, Timestamps, PublicBase):
    """A custom role of one account: a named subset of the permission catalogue.

    Members holding it have exactly these permissions (their built-in ``role`` stays
    ``agent`` as the base tier other code sees). Validation lives in :mod:`identity.roles`.
    """

    __tablename__ = "account_roles"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("accounts.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    permissions: Mapped[list[str]] = mapped_column(ARRAY(String(64)))


class Membership(PublicBase):
    __tablename__ = "memberships"

    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[Role] = mapped_column(MEMBER_ROLE)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: A custom role of the same account; when set, it alone decides the permissions.
    custom_role_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("account_roles.id", ondelete="RESTRICT"), index=True
    )


class Invitation(UuidPrimaryKey, PublicBase):
    """An offer to join an account, sent by email; the secret token is stored hashed.

    Open while neither accepted nor revoked (and usable until ``expires_at``). At most
    one open invitation per account and email (a partial unique index).
    """

    __tablename__ = "invitations"
    __table_args__ = (
        Index(
            "uq_invitations_open_account_email",
            "account_id",
            "email",
            unique=True,
            postgresql_where=text("accepted_at IS NULL AND revoked_at IS NULL"),
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("accounts.id", ondelete="CASCADE")
    )
    #: Stored lower-cased, like users.email.
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[Role] = mapped_column(MEMBER_ROLE)
    custom_role_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("account_roles.id", ondelete="SET NULL"), index=True
    )
    #: sha256 (hex) of the secret sent in the link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    send_count: Mapped[int] = mapped_column(Integer, default=1)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
