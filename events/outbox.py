"""The transactional outbox: events are rows written in the caller's transaction.

A change and its events commit or roll back together; the relay (see the relay module)
moves committed rows to their consumers and marks them published, so an event is never
lost when Redis is down at commit time, and never announced for a change that rolled
back. The outbox lives in the public schema, one table for all accounts, so the relay
finds pending events with one indexed query however many tenants there are. It is
internal: no endpoint reads it, and every row names its account.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from audit.service import Actor
from events.names import ALL
from tenants.db import PublicBase, UuidPrimaryKey, utcnow

#: Events caused by events (automation reacting) carry depth + 1; past this, none are
#: written, so a rule can never loop on itself.
MAX_CAUSATION_DEPTH = 5
#: The channel a trigger on the outbox notifies once per inserting statement (public
#: revision 0011), so an idle relay sleeps until there is something to publish.
NOTIFY_CHANNEL = "turumba_outbox"


class OutboxEvent(UuidPrimaryKey, PublicBase):
    __tablename__ = "outbox_events"
    __table_args__ = (
        Index(
            "ix_outbox_events_pending",
            "occurred_at",
            postgresql_where="published_at IS NULL",
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    name: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    causation_depth: Mapped[int] = mapped_column(Integer, default=0)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    #: The subject's changed fields ({"field": [before, after]}) and whatever else a
    #: consumer needs to act without reading stale state.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class UnknownEvent(ValueError):
    pass


@dataclass(frozen=True)
class Cause:
    """The event being reacted to, for the events the reaction writes: they carry its
    depth + 1 and the chain of automation rules that led to them."""

    depth: int
    rules: tuple[str, ...] = ()


_cause: ContextVar[Cause | None] = ContextVar("turumba_event_cause", default=None)


@contextmanager
def caused_by(depth: int, rules: tuple[str, ...]) -> Iterator[None]:
    """Every event written in the block is a reaction: depth ``depth + 1``, and its
    payload's ``rule_chain`` lists ``rules`` (the rules whose actions led to it)."""
    token = _cause.set(Cause(depth + 1, rules))
    try:
        yield
    finally:
        _cause.reset(token)


def event_values(
    *,
    account_id: uuid.UUID,
    name: str,
    actor: Actor,
    subject_type: str,
    subject_id: uuid.UUID | None = None,
    payload: dict[str, Any] | None = None,
    causation_depth: int = 0,
    occurred_at: datetime | None = None,
) -> dict[str, Any] | None:
    """The outbox row of one event, by column; None when the depth limit stops it.

    For writers that insert the row themselves, inside a larger statement (see
    :func:`helpdesk.messages.post_message`); everyone else calls :func:`emit`.
    """
    if name not in ALL:
        raise UnknownEvent(f"unknown event {name!r}")
    cause = _cause.get()
    if cause is not None:
        causation_depth = max(causation_depth, cause.depth)
        payload = {**(payload or {}), "rule_chain": list(cause.rules)}
    if causation_depth > MAX_CAUSATION_DEPTH:
        return None
    return {
        "id": uuid.uuid4(),
        "account_id": account_id,
        "name": name,
        "occurred_at": occurred_at or utcnow(),
        "actor_type": actor.type,
        "actor_id": actor.id,
        "causation_depth": causation_depth,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "payload": payload or {},
        "published_at": None,
        "attempts": 0,
    }


def emit(
    session: Session,
    *,
    account_id: uuid.UUID,
    name: str,
    actor: Actor,
    subject_type: str,
    subject_id: uuid.UUID | None = None,
    payload: dict[str, Any] | None = None,
    causation_depth: int = 0,
) -> OutboxEvent | None:
    """Write one event in the caller's transaction; None when the depth limit stops it."""
    values = event_values(
        account_id=account_id,
        name=name,
        actor=actor,
        subject_type=subject_type,
        subject_id=subject_id,
        payload=payload,
        causation_depth=causation_depth,
    )
    if values is None:
        return None
    event = OutboxEvent(**values)
    session.add(event)
    return event
