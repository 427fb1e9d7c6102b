"""Forgotten passwords: a reset link by email, then a new password.

Asking for a link must not reveal whether an address is registered, by the answer or
by its timing. So the request does the same constant work for every address: it queues
:func:`send_reset_email` with the address. The job looks the user up and mails a link
only when one exists (and not more than ``password_reset_hourly_limit`` an hour, so the
form cannot be used to flood a mailbox).

The link carries a single-use token (hashed at rest, ``password_reset_ttl`` seconds).
Resetting sets the new password and ``password_changed_at`` (access tokens issued
before that instant stop working), revokes every session (so their refresh tokens die),
spends every outstanding reset token, marks the email verified (the user just proved
they read it) and mails a notice.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.jobs import enqueue
from core.mail import send_email
from identity import emails, onetime
from identity.models import User
from identity.onetime import Purpose, TokenInvalid
from identity.passwords import hash_password
from identity.service import normalise_email
from identity.sessions import revoke_all_sessions
from tenants.db import db, utcnow
from tenants.hooks import after_commit

HOUR = timedelta(hours=1)


def _config():
    return current_app.extensions["turumba.config"]


def request_password_reset(session: Session, *, email: str) -> None:
    """Queue the reset email job once ``session`` commits, whoever ``email`` belongs to."""
    address = normalise_email(email)
    after_commit(session, lambda: enqueue(send_reset_email, address, queue_name="high"))


def issue_reset(session: Session, *, email: str) -> onetime.Issued | None:
    """A reset token mailed to the user with this address, if there is one (and they
    have not had too many this hour); ``None`` otherwise."""
    config = _config()
    user = session.scalar(
        select(User)
        .where(User.email == normalise_email(email), User.deleted_at.is_(None))
        .with_for_update()
    )
    if user is None:
        return None
    now = utcnow()
    recent = onetime.issued_since(
        session, user_id=user.id, purpose=Purpose.RESET_PASSWORD, since=now - HOUR
    )
    if len(recent) >= config.password_reset_hourly_limit:
        return None
    issued = onetime.issue(
        session,
        user_id=user.id,
        purpose=Purpose.RESET_PASSWORD,
        sent_to=user.email,
        ttl=timedelta(seconds=config.password_reset_ttl),
        now=now,
    )
    message = emails.reset_password(
        name=user.name,
        url=emails.link(config.public_url, "reset-password", issued.token),
        ttl=config.password_reset_ttl,
    )
    send_email(
        session, to=user.email, subject=message.subject, text=message.text, html=message.html
    )
    return issued


def send_reset_email(email: str) -> bool:
    """RQ job (runs in the app context): mail a reset link if ``email`` is a user's."""
    try:
        issued = issue_reset(db.session, email=email)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        db.session.remove()
    return issued is not None


def reset_password(session: Session, *, token: str, new_password: str) -> User:
    """Set a new password with a reset token; raises :class:`identity.onetime.TokenError`."""
    row = onetime.consume(session, token=token, purpose=Purpose.RESET_PASSWORD)
    user = session.scalar(select(User).where(User.id == row.user_id).with_for_update())
    if user.deleted_at is not None or row.sent_to != user.email:
        raise TokenInvalid
    now = utcnow()
    user.password_hash = hash_password(new_password)
    # Whole seconds: access tokens carry ``iat`` in seconds, and one issued right after
    # the reset must not look older than it.
    user.password_changed_at = now.replace(microsecond=0)
    if user.email_verified_at is None:
        user.email_verified_at = now
    onetime.revoke_all(session, user_id=user.id, purpose=Purpose.RESET_PASSWORD)
    revoke_all_sessions(session, user_id=user.id, reason="password_reset")
    message = emails.password_changed(name=user.name, public_url=_config().public_url)
    send_email(
        session, to=user.email, subject=message.subject, text=message.text, html=message.html
    )
    return user
