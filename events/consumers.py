"""Consumers of the event stream, registered by event name, and the dispatch job.

The relay enqueues one :func:`deliver` job per published event; the job calls every
consumer registered for the event's name. Delivery is *at least once* (a relay whose
batch failed half way publishes the whole batch again, RQ retries a failed job), so
each consumer runs **at most once per event id**, guarded in Redis:

- before a consumer runs, ``SET turumba:consumed:<consumer>:<event id> running NX EX``
  with a short lease (:data:`LEASE_SECONDS`): a second delivery that finds the key skips;
- when the consumer returns, the key becomes ``done`` for :data:`DONE_TTL_SECONDS`;
- when it raises, the key is deleted and the job fails, so RQ's retry runs it again
  (consumers that already succeeded for that event are skipped on the retry);
- a worker killed mid-consumer leaves only the lease, which expires.

Why Redis and not a table of processed (consumer, event id): the jobs already live in
that Redis, so the guard costs no extra dependency and one round trip; duplicates only
arrive within minutes of the first delivery (relay re-publication, job retries), so a
key that expires after a week covers them without a table growing forever or a sweeper
to prune it. A consumer that writes to PostgreSQL and needs the guard inside its own
transaction can still add its own unique key on top.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.redis import redis_client
from events import subscribers
from events.names import ALL

log = logging.getLogger(__name__)

LEASE_SECONDS = 600
DONE_TTL_SECONDS = 7 * 24 * 3600
KEY_PREFIX = "turumba:consumed"


@dataclass(frozen=True)
class Event:
    """What a consumer receives: the outbox row as it was published."""

    id: uuid.UUID
    name: str
    account_id: uuid.UUID
    occurred_at: datetime
    actor_type: str
    actor_id: uuid.UUID | None
    causation_depth: int
    subject_type: str
    subject_id: uuid.UUID | None
    payload: dict[str, Any] = field(default_factory=dict)


Consumer = Callable[[Event], None]


@dataclass(frozen=True)
class Registration:
    key: str
    func: Consumer


_registry: dict[str, list[Registration]] = {}


def register(name: str, func: Consumer, *, key: str | None = None) -> Consumer:
    """Subscribe ``func`` to the event ``name`` (an :mod:`events.names` constant).

    ``key`` names the consumer in its idempotency keys (default: the function's
    qualified name); it must stay stable across deploys.
    """
    if name not in ALL:
        raise ValueError(f"unknown event {name!r}")
    key = key or f"{func.__module__}.{func.__qualname__}"
    registrations = _registry.setdefault(name, [])
    if any(r.key == key for r in registrations):
        raise ValueError(f"a consumer {key!r} is already registered for {name!r}")
    registrations.append(Registration(key, func))
    return func


def unregister(name: str, func: Consumer) -> None:
    _registry[name] = [r for r in _registry.get(name, []) if r.func is not func]


def consumer(name: str, *, key: str | None = None) -> Callable[[Consumer], Consumer]:
    """Decorator form of :func:`register`."""
    return lambda func: register(name, func, key=key)


def consumers_of(name: str) -> list[Registration]:
    return list(_registry.get(name, []))


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def deliver(
    event_id: str,
    name: str,
    account_id: str,
    occurred_at: str,
    actor_type: str,
    actor_id: str | None,
    causation_depth: int,
    subject_type: str,
    subject_id: str | None,
    payload: dict[str, Any],
) -> list[str]:
    """The dispatch job: run each consumer of ``name`` once for this event id.

    Returns the keys of the consumers that ran this time.
    """
    event = Event(
        id=uuid.UUID(event_id),
        name=name,
        account_id=uuid.UUID(account_id),
        occurred_at=datetime.fromisoformat(occurred_at),
        actor_type=actor_type,
        actor_id=_uuid(actor_id),
        causation_depth=causation_depth,
        subject_type=subject_type,
        subject_id=_uuid(subject_id),
        payload=payload,
    )
    subscribers.load()
    redis = redis_client()
    ran: list[str] = []
    failed: list[tuple[str, Exception]] = []
    for registration in consumers_of(name):
        guard = f"{KEY_PREFIX}:{registration.key}:{event.id}"
        if not redis.set(guard, "running", nx=True, ex=LEASE_SECONDS):
            continue  # done already, or another delivery holds the lease
        try:
            registration.func(event)
        except Exception as exc:
            redis.delete(guard)
            log.exception("consumer %s failed on event %s", registration.key, event.id)
            failed.append((registration.key, exc))
            continue
        redis.set(guard, "done", ex=DONE_TTL_SECONDS)
        ran.append(registration.key)
    if failed:
        key, exc = failed[0]
        raise RuntimeError(f"{len(failed)} consumer(s) failed on event {event_id}: {key}") from exc
    return ran
