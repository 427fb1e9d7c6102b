"""API tokens: long-lived credentials for scripts, bound to one account.

A token is ``tt_`` followed by 43 random URL-safe characters. It is shown once, at
creation; only its SHA-256 is stored, with a short non-secret prefix for display
(``tt_AbCd1234``). It carries scopes (permissions) chosen at creation, a subset of what
its creator may do; when used, it may do only what both its scopes and its creator's
*current* permissions allow, in its own account only. Revoked or expired tokens, and
tokens whose creator was deleted, authenticate nobody. Callers own the transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ARRAY, Connection, DateTime, ForeignKey, String, Uuid, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from identity.models import User
from identity.permissions import PERMISSIONS
from tenants.db import PublicBase, UuidPrimaryKey, utcnow

PREFIX = "tt_"
#: Characters of the token shown in lists (``tt_`` + 8): enough to tell tokens apart.
DISPLAY_LENGTH = len(PREFIX) + 8
#: Scopes a token never gets: irreversible or privilege-granting acts need a person.
NOT_FOR_TOKENS = frozenset({"account:delete", "owners:manage", "api_tokens:manage"})
#: ``last_used_at`` is written at most this often per token.
TOUCH_INTERVAL = timedelta(seconds=60)


class ApiToken(UuidPrimaryKey, PublicBase):
    __tablename__ = "api_tokens"

    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    #: The first characters of the token, for display; not enough to use it.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InvalidScopes(ValueError):
    def __init__(self, unknown: list[str], forbidden: list[str], beyond: list[str]) -> None:
        self.unknown, self.forbidden, self.beyond = unknown, forbidden, beyond
        super().__init__("invalid scopes")

    @property
    def messages(self) -> list[str]:
        parts = []
        if self.unknown:
            parts.append(f"unknown permissions: {', '.join(self.unknown)}")
        if self.forbidden:
            parts.append(f"not available to API tokens: {', '.join(self.forbidden)}")
        if self.beyond:
            parts.append(f"more than you may do yourself: {', '.join(self.beyond)}")
        return parts


class TokenRefused(Exception):
    """The presented token authenticates nobody; ``reason`` says why (for the 401 code)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ResolvedToken:
    id: uuid.UUID
    account_id: uuid.UUID
    created_by: uuid.UUID
    scopes: frozenset[str]


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_token(credential: str) -> bool:
    return credential.startswith(PREFIX)


def create_token(
    session: Session,
    *,
    account_id: uuid.UUID,
    created_by: uuid.UUID,
    creator_permissions: Iterable[str],
    name: str,
    scopes: Iterable[str],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its secret (the only time the secret exists in clear)."""
    wanted = sorted(set(scopes))
    held = set(creator_permissions)
    unknown = [s for s in wanted if s not in PERMISSIONS]
    forbidden = [s for s in wanted if s in NOT_FOR_TOKENS]
    beyond = [s for s in wanted if s in PERMISSIONS and s not in NOT_FOR_TOKENS and s not in held]
    if unknown or forbidden or beyond:
        raise InvalidScopes(unknown, forbidden, beyond)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        account_id=account_id,
        name=name.strip(),
        prefix=secret[:DISPLAY_LENGTH],
        token_hash=hash_token(secret),
        scopes=wanted,
        created_by=created_by,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


def tokens_of(session: Session, account_id: uuid.UUID) -> list[ApiToken]:
    """The account's tokens that are not revoked, newest first."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id)
        )
    )


def get_token(session: Session, *, account_id: uuid.UUID, token_id: uuid.UUID) -> ApiToken | None:
    token = session.get(ApiToken, token_id)
    if token is None or token.account_id != account_id or token.revoked_at is not None:
        return None
    return token


def revoke_token(session: Session, token: ApiToken) -> ApiToken:
    token.revoked_at = utcnow()
    session.flush()
    return token


def resolve(conn: Connection, secret: str, *, now: datetime | None = None) -> ResolvedToken:
    """The live token behind ``secret`` (a :class:`TokenRefused` otherwise); notes its use.

    Runs on its own connection (the request's session may be about to enter a tenant).
    ``last_used_at`` is written at most once per :data:`TOUCH_INTERVAL`.
    """
    now = now or utcnow()
    table = ApiToken.__table__
    row = conn.execute(
        select(
            table.c.id,
            table.c.account_id,
            table.c.created_by,
            table.c.scopes,
            table.c.expires_at,
            table.c.revoked_at,
            table.c.last_used_at,
            User.__table__.c.deleted_at,
        )
        .outerjoin(User.__table__, User.__table__.c.id == table.c.created_by)
        .where(table.c.token_hash == hash_token(secret))
    ).first()
    if row is None:
        raise TokenRefused("invalid")
    if row.revoked_at is not None:
        raise TokenRefused("revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise TokenRefused("expired")
    if row.created_by is None or row.deleted_at is not None:
        raise TokenRefused("creator_gone")
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_INTERVAL:
        conn.execute(update(table).where(table.c.id == row.id).values(last_used_at=now))
        conn.commit()
    return ResolvedToken(row.id, row.account_id, row.created_by, frozenset(row.scopes))
