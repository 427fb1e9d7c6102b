"""Single-use, expiring tokens sent by email (verify an address, reset a password).

Only a SHA-256 hash of each secret is stored, so a copy of the table opens nothing.
A token is spent once (``used_at``) and dies at ``expires_at``; issuing a new token of
the same purpose to the same user supersedes the older unused ones (``revoked_at``), so
only the latest email works. A token may carry a short code as well (typed by hand
instead of following the link); codes are only accepted from the signed-in user and
a few wrong guesses kill the token.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, ForeignKey, Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tenants.db import PublicBase, UuidPrimaryKey, utcnow

#: Unambiguous symbols for codes typed by hand (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
#: Wrong codes tolerated before the token is dead.
MAX_CODE_ATTEMPTS = 5


class Purpose(enum.StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"


class OneTimeToken(UuidPrimaryKey, PublicBase):
    __tablename__ = "one_time_tokens"

    purpose: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    #: sha256 hex of the secret in the link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: sha256 hex of (token id, short code), when the token has a code.
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: The address the secret was mailed to: it proves that mailbox and no other.
    sent_to: Mapped[str] = mapped_column(String(320))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Superseded by a newer token of the same purpose, or killed by wrong codes.
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TokenError(Exception):
    code = "token_invalid"


class TokenInvalid(TokenError):
    """Unknown secret, wrong purpose, or a wrong code."""

    code = "token_invalid"


class TokenExpired(TokenError):
    code = "token_expired"


class TokenUsed(TokenError):
    code = "token_used"


class TokenSuperseded(TokenError):
    """A newer token was issued (or too many wrong codes were tried)."""

    code = "token_superseded"


@dataclass(frozen=True)
class Issued:
    row: OneTimeToken
    #: The secret for the link; never stored.
    token: str
    #: The short code, when asked for; never stored.
    code: str | None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _hash_code(token_id: uuid.UUID, code: str) -> str:
    return hashlib.sha256(f"{token_id}:{normalise_code(code)}".encode()).hexdigest()


def normalise_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def format_code(code: str) -> str:
    """``ABCD2345`` -> ``ABCD-2345`` for reading in an email."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def issue(
    session: Session,
    *,
    user_id: uuid.UUID,
    purpose: Purpose,
    sent_to: str,
    ttl: timedelta,
    with_code: bool = False,
    now: datetime | None = None,
) -> Issued:
    """A new token (the older unused ones of this purpose stop working), in the caller's
    transaction. ``now`` exists for tests that need a token born in the past."""
    now = now or utcnow()
    revoke_all(session, user_id=user_id, purpose=purpose, now=now)
    token = secrets.token_urlsafe(32)
    row = OneTimeToken(
        id=uuid.uuid4(),
        purpose=purpose.value,
        user_id=user_id,
        token_hash=hash_secret(token),
        sent_to=sent_to,
        expires_at=now + ttl,
        created_at=now,
        code_attempts=0,
    )
    code = None
    if with_code:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        row.code_hash = _hash_code(row.id, code)
    session.add(row)
    session.flush()
    return Issued(row=row, token=token, code=code)


def _check(row: OneTimeToken, now: datetime) -> None:
    if row.used_at is not None:
        raise TokenUsed
    if row.revoked_at is not None:
        raise TokenSuperseded
    if row.expires_at <= now:
        raise TokenExpired


def consume(session: Session, *, token: str, purpose: Purpose) -> OneTimeToken:
    """Spend the token whose secret is ``token``; raises a :class:`TokenError` otherwise.

    The row is locked, so two concurrent requests with one token cannot both succeed.
    """
    row = session.scalar(
        select(OneTimeToken)
        .where(OneTimeToken.token_hash == hash_secret(token.strip()))
        .with_for_update()
    )
    if row is None or row.purpose != purpose.value:
        raise TokenInvalid
    now = utcnow()
    _check(row, now)
    row.used_at = now
    return row


def consume_code(
    session: Session, *, user_id: uuid.UUID, code: str, purpose: Purpose
) -> OneTimeToken:
    """Spend the user's latest token of ``purpose`` by its short code.

    A wrong code counts against the token, and is stored even though the caller will
    answer with an error: commit the session in both cases.
    """
    row = session.scalar(
        select(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == purpose.value,
            OneTimeToken.code_hash.is_not(None),
        )
        .order_by(OneTimeToken.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    if row is None:
        raise TokenInvalid
    now = utcnow()
    _check(row, now)
    if not hmac.compare_digest(row.code_hash, _hash_code(row.id, code)):
        row.code_attempts += 1
        if row.code_attempts >= MAX_CODE_ATTEMPTS:
            row.revoked_at = now
        raise TokenInvalid
    row.used_at = now
    return row


def revoke_all(
    session: Session, *, user_id: uuid.UUID, purpose: Purpose, now: datetime | None = None
) -> None:
    """Every unused token of ``purpose`` for the user stops working."""
    session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.user_id == user_id,
            OneTimeToken.purpose == purpose.value,
            OneTimeToken.used_at.is_(None),
            OneTimeToken.revoked_at.is_(None),
        )
        .values(revoked_at=now or utcnow())
    )


def issued_since(
    session: Session, *, user_id: uuid.UUID, purpose: Purpose, since: datetime
) -> list[datetime]:
    """When the user's tokens of ``purpose`` created after ``since`` were issued, oldest first."""
    return list(
        session.scalars(
            select(OneTimeToken.created_at)
            .where(
                OneTimeToken.user_id == user_id,
                OneTimeToken.purpose == purpose.value,
                OneTimeToken.created_at > since,
            )
            .order_by(OneTimeToken.created_at)
        )
    )
