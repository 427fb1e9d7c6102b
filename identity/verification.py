"""Email verification: prove the user reads the mailbox they signed up with.

Sign-up mails a link (``{public_url}/verify-email?token=…``) and a short code. The link
works for anybody holding it; the code only for the signed-in user (it is short enough
to type, so it is bound to the user and dies after a few wrong guesses). Unverified
users may log in, but some actions are refused to them (see ``api.auth.require_verified``).

Resending is throttled from the tokens table itself (the source of truth, so every
process agrees): one email per ``verification_resend_interval`` seconds and at most
``verification_daily_limit`` per rolling 24 hours, sign-up's included.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.mail import send_email
from identity import emails, onetime
from identity.models import User
from identity.onetime import Purpose, TokenInvalid
from tenants.db import utcnow

DAY = timedelta(days=1)


class AlreadyVerified(Exception):
    pass


class ResendThrottled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry in {retry_after} s")
        self.retry_after = retry_after


def _config():
    return current_app.extensions["turumba.config"]


def send_verification(
    session: Session, *, user: User, now: datetime | None = None
) -> onetime.Issued:
    """Issue a verification token (older ones stop working) and mail it after commit."""
    config = _config()
    issued = onetime.issue(
        session,
        user_id=user.id,
        purpose=Purpose.VERIFY_EMAIL,
        sent_to=user.email,
        ttl=timedelta(seconds=config.email_verification_ttl),
        with_code=True,
        now=now,
    )
    message = emails.verify_email(
        name=user.name,
        url=emails.link(config.public_url, "verify-email", issued.token),
        code=onetime.format_code(issued.code),
        ttl=config.email_verification_ttl,
    )
    send_email(
        session, to=user.email, subject=message.subject, text=message.text, html=message.html
    )
    return issued


def resend_verification(session: Session, *, user_id: uuid.UUID) -> onetime.Issued:
    """Mail a fresh verification token, unless verified already or throttled."""
    config = _config()
    # Lock the user: concurrent resends are counted one after the other.
    user = session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user.email_verified_at is not None:
        raise AlreadyVerified
    now = utcnow()
    sent = onetime.issued_since(
        session, user_id=user.id, purpose=Purpose.VERIFY_EMAIL, since=now - DAY
    )
    waits = []
    if sent and (now - sent[-1]).total_seconds() < config.verification_resend_interval:
        waits.append(config.verification_resend_interval - (now - sent[-1]).total_seconds())
    if len(sent) >= config.verification_daily_limit:
        oldest_counted = sent[len(sent) - config.verification_daily_limit]
        waits.append((oldest_counted + DAY - now).total_seconds())
    if waits:
        raise ResendThrottled(max(1, math.ceil(max(waits))))
    return send_verification(session, user=user, now=now)


def _mark(user: User, row: onetime.OneTimeToken) -> User:
    if row.sent_to != user.email:
        # The address changed since this was sent: it proves a mailbox the user left.
        raise TokenInvalid
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    return user


def verify_email(session: Session, *, token: str) -> User:
    """Mark the token's user verified; raises :class:`identity.onetime.TokenError`."""
    row = onetime.consume(session, token=token, purpose=Purpose.VERIFY_EMAIL)
    return _mark(session.get(User, row.user_id), row)


def verify_email_code(session: Session, *, user_id: uuid.UUID, code: str) -> User:
    """Mark the user verified by the code of their latest email (commit even on failure:
    wrong guesses are counted)."""
    user = session.get(User, user_id)
    if user.email_verified_at is not None:
        raise AlreadyVerified
    row = onetime.consume_code(session, user_id=user_id, code=code, purpose=Purpose.VERIFY_EMAIL)
    return _mark(user, row)


def mark_verified(session: Session, *, user_id: uuid.UUID) -> None:
    """Trust the address without an email (operators, invitations, tests)."""
    user = session.get(User, user_id)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    onetime.revoke_all(session, user_id=user_id, purpose=Purpose.VERIFY_EMAIL)
