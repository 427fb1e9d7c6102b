"""TOTP multi-factor authentication with single-use recovery codes.

Enrolment stores a fresh secret on the user (``users.mfa_secret``) without trusting it;
confirming it with a valid code sets ``users.mfa_enabled_at`` and hands out ten recovery
codes, shown once and stored as sha256 hashes. A TOTP code is accepted for the current
30-second step and one step either side, and never twice: the last step used is kept
(``mfa_totp_steps``), and only a later step is accepted afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from identity.models import User
from tenants.db import PublicBase, UuidPrimaryKey, utcnow

RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: Steps either side of now that are still accepted (clock drift).
VALID_WINDOW = 1


class RecoveryCode(UuidPrimaryKey, PublicBase):
    __tablename__ = "mfa_recovery_codes"
    __table_args__ = (Index("ix_mfa_recovery_codes_user_id", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TotpStep(PublicBase):
    """The last TOTP time step a user has spent: codes of that step or earlier are refused."""

    __tablename__ = "mfa_totp_steps"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_step: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MfaAlreadyEnabled(Exception):
    pass


class MfaNotEnrolled(Exception):
    pass


class MfaNotEnabled(Exception):
    pass


class InvalidCode(Exception):
    pass


@dataclass(frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _hash(code: str) -> str:
    return hashlib.sha256(_normalise_recovery(code).encode()).hexdigest()


def enrol(session: Session, *, user: User, issuer: str) -> Enrolment:
    """A new (unconfirmed) secret for the user; replaces any earlier unconfirmed one."""
    if user.mfa_enabled_at is not None:
        raise MfaAlreadyEnabled
    user.mfa_secret = pyotp.random_base32()
    session.flush()
    uri = pyotp.TOTP(user.mfa_secret).provisioning_uri(name=user.email, issuer_name=issuer)
    return Enrolment(user.mfa_secret, uri, segno.make(uri, error="m").svg_inline(scale=4))


def confirm(session: Session, *, user: User, code: str, now: float | None = None) -> list[str]:
    """Enable MFA once the authenticator proves it has the secret; the recovery codes."""
    if user.mfa_enabled_at is not None:
        raise MfaAlreadyEnabled
    if not user.mfa_secret:
        raise MfaNotEnrolled
    _spend_totp(session, user=user, code=code, now=now)
    user.mfa_enabled_at = utcnow()
    return regenerate_recovery_codes(session, user_id=user.id)


def verify(
    session: Session,
    *,
    user: User,
    code: str | None = None,
    recovery_code: str | None = None,
    now: float | None = None,
) -> str:
    """Check a second factor (a TOTP code or a recovery code, each spent on success).

    Returns which one was used (``"totp"`` or ``"recovery_code"``); :class:`InvalidCode`
    otherwise.
    """
    if user.mfa_enabled_at is None or not user.mfa_secret:
        raise MfaNotEnabled
    if code:
        _spend_totp(session, user=user, code=code, now=now)
        return "totp"
    if recovery_code:
        spent = session.scalar(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _hash(recovery_code),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
            .returning(RecoveryCode.id)
        )
        if spent is None:
            raise InvalidCode
        return "recovery_code"
    raise InvalidCode


def disable_verified(session: Session, *, user: User) -> None:
    """Turn MFA off; the caller has just checked a second factor (:func:`verify`)."""
    user.mfa_secret = None
    user.mfa_enabled_at = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.execute(delete(TotpStep).where(TotpStep.user_id == user.id))
    session.flush()


def regenerate_recovery_codes(session: Session, *, user_id: uuid.UUID) -> list[str]:
    """Replace every recovery code of the user with ten new ones (returned in clear, once)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    session.add_all(RecoveryCode(user_id=user_id, code_hash=_hash(c)) for c in codes)
    session.flush()
    return codes


def remaining_recovery_codes(session: Session, *, user_id: uuid.UUID) -> int:
    return len(
        session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def _matching_step(secret: str, code: str, now: float) -> int | None:
    totp = pyotp.TOTP(secret)
    code = code.strip().replace(" ", "")
    current = int(now // totp.interval)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _spend_totp(session: Session, *, user: User, code: str, now: float | None) -> None:
    step = _matching_step(user.mfa_secret, code, time.time() if now is None else now)
    if step is None:
        raise InvalidCode
    # One atomic statement: record the step unless an equal or later one was spent.
    stmt = insert(TotpStep).values(user_id=user.id, last_step=step, updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(
        index_elements=[TotpStep.user_id],
        set_={"last_step": stmt.excluded.last_step, "updated_at": stmt.excluded.updated_at},
        where=TotpStep.last_step < stmt.excluded.last_step,
    ).returning(TotpStep.user_id)
    if session.scalar(stmt) is None:
        raise InvalidCode  # replayed: this step (or a later one) was already used
