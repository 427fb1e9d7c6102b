"""The two declarative bases and the Flask-SQLAlchemy extension.

Public models name their schema; tenant models name none, so the session's
``schema_translate_map`` decides where they live (see :mod:`tenants.scope`).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, Uuid, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tenants.scope import TenantScopedSession

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class PublicBase(DeclarativeBase):
    """Shared tables: the account registry and identity."""

    metadata = MetaData(schema="public", naming_convention=NAMING_CONVENTION)


class TenantBase(DeclarativeBase):
    """Per-account tables; declared without a schema on purpose."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UuidPrimaryKey:
    # sort_order: the id comes first and timestamps last, as the migrations write them.
    id: Mapped[uuid.UUID] = mapped_column(
        Uuid, primary_key=True, default=uuid.uuid4, sort_order=-10
    )


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, sort_order=10
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, sort_order=10
    )


db = SQLAlchemy(model_class=PublicBase, session_options={"class_": TenantScopedSession})


#: A pooled connection idle longer than this is checked before use.
IDLE_PING_AFTER = 10.0


def ping_when_idle(engine, *, after: float = IDLE_PING_AFTER) -> None:
    """Check a pooled connection before use only when it sat idle for ``after`` seconds.

    ``pool_pre_ping`` pays a round trip on every checkout — a tenth of a short request.
    A connection that served a request a moment ago is almost surely alive; one idle for a
    while may have been cut (a database restart, a proxy's idle timeout), so that one is
    pinged, and a dead one is replaced before the request sees it. A connection that dies
    in between is still caught: the failing statement invalidates the pool.
    """

    @event.listens_for(engine, "checkin")
    def _note_idle(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < after:
            return  # fresh from connect, or in use a moment ago
        try:
            dbapi_connection.execute("SELECT 1")
            # The ping opened a transaction; leave none open, or an autocommit
            # checkout (helpdesk.messages.post_message) could not switch to it.
            dbapi_connection.rollback()
        except Exception as exc:
            raise DisconnectionError("a pooled connection died while idle") from exc
