"""Auth sessions (one per log-in on a device) and their rotating refresh tokens.

A log-in opens a session and hands out an access token (carrying the session id as
``sid``) and a refresh token. Refresh tokens are random, stored as sha256 hashes, and
single use: refreshing marks the presented token used and issues the next one. A used
token presented again means two parties hold the same chain (a stolen token): the whole
session is revoked.

Revoking a session is recorded here (the database is the source of truth, checked on
every refresh) and, after commit, announced in Redis with a key that lives as long as an
access token, so every request can refuse a revoked session's access tokens with one
cheap ``EXISTS`` (see :func:`is_revoked`).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis as redis_lib
from sqlalchemy import DateTime, ForeignKey, Index, String, delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from identity.models import User
from identity.passwords import hash_password, verify_password
from tenants.db import PublicBase, UuidPrimaryKey, utcnow
from tenants.hooks import after_commit

log = logging.getLogger(__name__)

REVOKED_KEY = "turumba:revoked-session:{}"
SEEN_KEY = "turumba:session-seen:{}"


class AuthSession(UuidPrimaryKey, PublicBase):
    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_id", "user_id"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: ``logout``, ``revoked``, ``revoke_others``, ``password_changed``,
    #: ``refresh_token_reused``...
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class RefreshToken(UuidPrimaryKey, PublicBase):
    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_session_id", "session_id"),)

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefreshError(Exception):
    """The refresh token cannot be exchanged; ``code`` says why."""

    def __init__(self, code: str, user_id: uuid.UUID | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.user_id = user_id


class SessionNotFound(Exception):
    pass


class WrongPassword(Exception):
    pass


@dataclass(frozen=True)
class Opened:
    """A session and the plain refresh token that continues it (shown once)."""

    session: AuthSession
    refresh_token: str
    refresh_expires_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh_token(
    session: Session, auth_session: AuthSession, *, ttl: int, now: datetime
) -> Opened:
    plain = "rt_" + secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=ttl)
    session.add(
        RefreshToken(
            session_id=auth_session.id,
            token_hash=hash_token(plain),
            created_at=now,
            expires_at=expires_at,
        )
    )
    return Opened(auth_session, plain, expires_at)


def open_session(
    session: Session,
    *,
    user_id: uuid.UUID,
    user_agent: str | None,
    ip: str | None,
    refresh_ttl: int,
) -> Opened:
    now = utcnow()
    auth_session = AuthSession(
        id=uuid.uuid4(),
        user_id=user_id,
        user_agent=(user_agent or None) and user_agent[:512],
        ip=(ip or None) and ip[:45],
        created_at=now,
        last_used_at=now,
    )
    session.add(auth_session)
    opened = _new_refresh_token(session, auth_session, ttl=refresh_ttl, now=now)
    session.flush()
    return opened


def rotate(
    session: Session, *, refresh_token: str, refresh_ttl: int, ip: str | None = None
) -> Opened:
    """Exchange a refresh token for the next one of its session.

    Raises :class:`RefreshError` with ``code`` ``invalid_refresh_token`` (unknown or
    expired), ``session_revoked`` or ``refresh_token_reused`` (the session has just been
    revoked: the caller must commit so the revocation sticks).
    """
    row = session.scalar(
        select(RefreshToken)
        .where(RefreshToken.token_hash == hash_token(refresh_token))
        .with_for_update()
    )
    if row is None:
        raise RefreshError("invalid_refresh_token")
    auth_session = session.scalar(
        select(AuthSession).where(AuthSession.id == row.session_id).with_for_update()
    )
    now = utcnow()
    if auth_session.revoked_at is not None:
        raise RefreshError("session_revoked", auth_session.user_id)
    if row.used_at is not None:
        revoke(session, [auth_session.id], reason="refresh_token_reused")
        raise RefreshError("refresh_token_reused", auth_session.user_id)
    if row.expires_at <= now:
        raise RefreshError("invalid_refresh_token", auth_session.user_id)
    user = session.get(User, auth_session.user_id)
    if user is None or user.deleted_at is not None:
        raise RefreshError("session_revoked", auth_session.user_id)
    row.used_at = now
    auth_session.last_used_at = now
    if ip:
        auth_session.ip = ip[:45]
    opened = _new_refresh_token(session, auth_session, ttl=refresh_ttl, now=now)
    session.flush()
    return opened


def reissue(
    session: Session, *, user_id: uuid.UUID, session_id: uuid.UUID | None, refresh_ttl: int
) -> Opened:
    """A fresh refresh token for the user's live session (the unused old ones are dropped).

    Opens a new session when there is none to continue (e.g. ``session_id`` is ``None``).
    """
    auth_session = None
    if session_id is not None:
        auth_session = session.scalar(
            select(AuthSession).where(
                AuthSession.id == session_id,
                AuthSession.user_id == user_id,
                AuthSession.revoked_at.is_(None),
            )
        )
    if auth_session is None:
        return open_session(
            session, user_id=user_id, user_agent=None, ip=None, refresh_ttl=refresh_ttl
        )
    session.execute(
        delete(RefreshToken).where(
            RefreshToken.session_id == auth_session.id, RefreshToken.used_at.is_(None)
        )
    )
    now = utcnow()
    auth_session.last_used_at = now
    opened = _new_refresh_token(session, auth_session, ttl=refresh_ttl, now=now)
    session.flush()
    return opened


def revoke(session: Session, session_ids: Iterable[uuid.UUID], *, reason: str) -> list[uuid.UUID]:
    """Revoke the given sessions (those not revoked yet); announced in Redis after commit."""
    ids = list(session_ids)
    if not ids:
        return []
    revoked = list(
        session.scalars(
            update(AuthSession)
            .where(AuthSession.id.in_(ids), AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason)
            .returning(AuthSession.id)
            .execution_options(synchronize_session="fetch")
        )
    )
    if revoked:
        after_commit(session, lambda: _announce(revoked))
    return revoked


def revoke_session(
    session: Session, *, user_id: uuid.UUID, session_id: uuid.UUID, reason: str = "revoked"
) -> None:
    """Revoke one of the user's own sessions; another user's is :class:`SessionNotFound`."""
    found = session.scalar(
        select(AuthSession.id).where(
            AuthSession.id == session_id,
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
        )
    )
    if found is None:
        raise SessionNotFound(session_id)
    revoke(session, [found], reason=reason)


def revoke_all_sessions(
    session: Session,
    *,
    user_id: uuid.UUID,
    reason: str,
    except_session_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Revoke every live session of the user (but ``except_session_id``).

    The password reset and account deletion flows call this too.
    """
    query = select(AuthSession.id).where(
        AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
    )
    if except_session_id is not None:
        query = query.where(AuthSession.id != except_session_id)
    return revoke(session, list(session.scalars(query)), reason=reason)


def live_sessions(session: Session, *, user_id: uuid.UUID) -> list[AuthSession]:
    return list(
        session.scalars(
            select(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
            .order_by(AuthSession.last_used_at.desc(), AuthSession.id)
        )
    )


def touch_if_due(
    conn: Connection, redis: redis_lib.Redis, session_id: uuid.UUID, *, every: int = 60
) -> None:
    """Record that the session was just used, at most once per ``every`` seconds.

    Runs on the caller's own connection and commits it (a request's transaction is not
    involved). Without Redis, nothing is recorded: "last used" is a hint, not a rule.
    """
    try:
        due = redis.set(SEEN_KEY.format(session_id), 1, ex=every, nx=True)
    except redis_lib.RedisError:
        return
    if due:
        conn.execute(
            update(AuthSession)
            .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
            .values(last_used_at=utcnow())
        )
        conn.commit()


def change_password(
    session: Session,
    *,
    user: User,
    current_password: str,
    new_password: str,
    keep_session_id: uuid.UUID | None,
) -> list[uuid.UUID]:
    """Set a new password; every other session is revoked, older access tokens refused."""
    if not verify_password(user.password_hash, current_password):
        raise WrongPassword
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    session.flush()
    return revoke_all_sessions(
        session, user_id=user.id, reason="password_changed", except_session_id=keep_session_id
    )


# -- the Redis side of revocation ---------------------------------------------------------


def _announce(session_ids: list[uuid.UUID]) -> None:
    from flask import current_app

    from core.redis import redis_client

    ttl = current_app.extensions["turumba.config"].access_token_ttl
    mark_revoked(redis_client(), session_ids, ttl=ttl)


def mark_revoked(redis: redis_lib.Redis, session_ids: Iterable[uuid.UUID], *, ttl: int) -> None:
    try:
        pipe = redis.pipeline()
        for session_id in session_ids:
            pipe.set(REVOKED_KEY.format(session_id), 1, ex=max(1, ttl))
        pipe.execute()
    except redis_lib.RedisError:
        log.warning("could not announce revoked sessions in redis; refresh still refuses them")


def is_revoked(session: Session, redis: redis_lib.Redis, session_id: uuid.UUID) -> bool:
    """Whether the session's access tokens must be refused (Redis; the database if it fails)."""
    try:
        return bool(redis.exists(REVOKED_KEY.format(session_id)))
    except redis_lib.RedisError:
        log.warning("revoked-session check falling back to the database: redis unavailable")
    revoked_at = session.scalar(select(AuthSession.revoked_at).where(AuthSession.id == session_id))
    return revoked_at is not None
