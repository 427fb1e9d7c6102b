"""Consumers of the event stream, registered by event name, and the dispatch job.

The relay enqueues one :func:`deliver_batch` job per slice of the events it publishes
together (see :mod:`events.relay`); the job calls :func:`deliver` for each event, in
order, and :func:`deliver` calls every consumer registered for the event's name.
Delivery is *at least once* (a relay whose batch failed half way publishes the whole
batch again, RQ retries a failed job), so each consumer runs **at most once per event
id**, guarded in Redis:

- before a consumer runs, ``SET turumba:consumed:<consumer>:<event id> running NX EX``
  with a short lease (:data:`LEASE_SECONDS`): a second delivery that finds the key skips;
- when the consumer returns, the key becomes ``done`` for :data:`DONE_TTL_SECONDS`;
- when it raises, the key is deleted, the other consumers and the batch's other events
  still run, and then the job fails, so RQ's retry delivers the batch again: the guard
  skips every (consumer, event) that already succeeded, so only what failed runs again;
- a worker killed mid-consumer leaves only the lease, which expires.

Why Redis and not a table of processed (consumer, event id): the jobs already live in
that Redis, so the guard costs no extra dependency and one round trip; duplicates only
arrive within minutes of the first delivery (relay re-publication, job retries), so a
key that expires after a week covers them without a table growing forever or a sweeper
to prune it. A consumer that writes to PostgreSQL and needs the guard inside its own
transaction can still add its own unique key on top.

Why a job per batch and not per event: RQ spends a few milliseconds of a worker on each
job (dequeuing, registries, its result, its log lines; two workers run 400-500 no-op
jobs a second), and the relay as much again to enqueue it. A batch pays that once for up
to :data:`events.relay.EVENTS_PER_JOB` events, handed to Redis in one round trip
(``bench/automation.py``: 88 events a second became 132, with the same workers).
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

    @property
    def conversation_id(self) -> uuid.UUID | None:
        """The conversation the event concerns: its subject, or the one the payload names
        for events about something inside a conversation (a message, a tag)."""
        if self.subject_type == "conversation":
            return self.subject_id
        value = self.payload.get("conversation_id")
        return uuid.UUID(value) if value else None


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
    """The consumers of ``name`` in the order they run: by their module's place in
    :data:`events.subscribers.MODULES` (so automation sees what the built-in reactions
    made of an event, whichever module a process happened to import first), then in
    registration order; consumers from elsewhere (tests) last."""
    return sorted(_registry.get(name, []), key=lambda r: subscribers.rank(r.func.__module__))


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


class DeliveryFailed(RuntimeError):
    """A consumer raised on an event (the cause); the others ran."""


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
    """Run each consumer of ``name`` once for this event id (the event as
    :func:`events.relay.dispatch_args` gives it); raise :class:`DeliveryFailed` after
    them all when any failed.

    Returns the keys of the consumers that ran this time. Jobs an older relay queued,
    one per event, call it directly: its signature is theirs.
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
        raise DeliveryFailed(
            f"{len(failed)} consumer(s) failed on event {event_id}: {key}"
        ) from exc
    return ran


def deliver_batch(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The dispatch job: :func:`deliver` each event, in order.

    An event whose consumer fails does not hold up the others: the job fails once every
    event was delivered, and its retry runs only what failed (see the module's doc).
    Returns the keys of the consumers that ran this time, by event id.
    """
    ran: dict[str, list[str]] = {}
    failed: list[DeliveryFailed] = []
    for fields in events:
        try:
            ran[fields["event_id"]] = deliver(**fields)
        except DeliveryFailed as exc:
            failed.append(exc)
    if failed:
        raise DeliveryFailed(
            f"{len(failed)} of {len(events)} events failed; the first: {failed[0]}"
        ) from failed[0]
    return ran
