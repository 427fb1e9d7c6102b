"""Each worker process remembers the enabled rules of each account, by event name, so
an event that no rule listens to costs no query, and one that some do costs none to find
them.

Any ORM session that commits a change to a rule (the API's, the engine's when it
switches one off) bumps the account's generation counter in Redis; the engine reads the
counter for each event (one Redis round trip) and reloads the account's rules when it
moved. Entries also expire after :data:`TTL` seconds, in case a bump was lost while Redis
was down; while Redis does not answer, nothing is cached.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from flask import has_app_context
from redis.exceptions import RedisError
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from automation.models import RUN_ORDER, Rule
from core.redis import redis_client
from tenants.scope import TENANT_OPTION

TTL = 60.0
#: Where the book keeps the time-based rules, beside the event names.
SCHEDULED = "@schedule"
_KEY = "turumba:automation:rules:{schema}"
_CHANGED = "turumba_automation_rules_changed"


@dataclass(frozen=True)
class Listed:
    """What the engine needs of a rule to evaluate it and run its actions."""

    id: uuid.UUID
    version: int
    name: str
    conditions: Any
    actions: list[dict[str, Any]]
    stop_processing: bool
    #: A time-based rule's ``{"type", "minutes"}``; None for an event rule.
    schedule: dict[str, Any] | None
    #: Log the evaluations that do not match too.
    log_misses: bool
    #: Runs in a row with a failed action, when the book was read.
    failures: int


class RuleBook:
    def __init__(self, ttl: float = TTL) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[bytes | None, float, dict[str, list[Listed]]]] = {}

    def rules(self, session: Session, schema: str) -> dict[str, list[Listed]]:
        """The enabled rules of the account in ``schema``, in order, by the event name
        they run on; the time-based ones under :data:`SCHEDULED`."""
        try:
            generation = redis_client().get(_KEY.format(schema=schema))
        except RedisError:
            return _load(session)
        with self._lock:
            cached = self._entries.get(schema)
        if cached and cached[0] == generation and time.monotonic() - cached[1] < self._ttl:
            return cached[2]
        by_event = _load(session)
        with self._lock:
            self._entries[schema] = (generation, time.monotonic(), by_event)
        return by_event


def _load(session: Session) -> dict[str, list[Listed]]:
    by_event: dict[str, list[Listed]] = defaultdict(list)
    rules = session.scalars(select(Rule).where(Rule.enabled.is_(True)).order_by(*RUN_ORDER))
    for rule in rules:
        listed = Listed(
            id=rule.id,
            version=rule.version,
            name=rule.name,
            conditions=rule.conditions,
            actions=rule.actions,
            stop_processing=rule.stop_processing,
            schedule=rule.schedule,
            log_misses=rule.log_misses,
            failures=rule.failures,
        )
        for name in rule.events or [SCHEDULED]:
            by_event[name].append(listed)
    return dict(by_event)


BOOK = RuleBook()


@event.listens_for(Session, "before_flush")
def _watch(session: Session, flush_context: Any, instances: Any) -> None:
    touched = (
        *session.new,
        *(instance for instance in session.dirty if session.is_modified(instance)),
        *session.deleted,
    )
    if any(isinstance(instance, Rule) for instance in touched):
        options = session.connection().get_execution_options()
        session.info[_CHANGED] = options.get(TENANT_OPTION)


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    schema = session.info.pop(_CHANGED, None)
    if schema is None or not has_app_context():
        return
    with contextlib.suppress(RedisError):  # the TTL heals a lost bump
        redis_client().incr(_KEY.format(schema=schema))


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_CHANGED, None)
