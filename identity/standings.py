"""Each process remembers users' standings in accounts (:class:`identity.roles.Standing`),
so an authenticated request does not read them from the database.

Whatever changes a standing goes through the ORM: a user deleted or changing their
password, a membership made, changed or ended, a custom role edited or removed. Any ORM
session (the request's, a job's, the CLI's) that commits such a change bumps a
generation counter in Redis (see :func:`_watch`);
requests read the counter in the Redis round trip they make anyway (``api.auth``), and a
process that sees a new value forgets every standing, so a removed member is refused on
the very next request, in every process. Entries also expire after ``ttl`` seconds, in
case a bump was lost while Redis was down; while Redis does not answer, nothing is cached.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import redis
from flask import current_app, has_app_context
from sqlalchemy import Engine, event, inspect
from sqlalchemy.orm import Session

from identity.models import User
from identity.roles import Standing, standing_in
from tenants.models import AccountRole, Membership

GENERATION_KEY = "turumba:standings:generation"
#: The generation when Redis did not answer: read the database, cache nothing.
UNKNOWN: Any = object()
#: Past this many entries the cache starts afresh (a bound, not an eviction policy).
MAX_ENTRIES = 100_000
#: The user columns a standing holds; other changes to a user (a login...) leave it be.
_USER_FIELDS = ("deleted_at", "password_changed_at")
_CHANGED = "turumba_standings_changed"


class Standings:
    """The process's cache of standings, by (user, account)."""

    def __init__(self, engine: Engine, redis_client: redis.Redis, ttl: float) -> None:
        self._engine = engine
        self._redis = redis_client
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[tuple[uuid.UUID, uuid.UUID], tuple[Standing, float]] = {}
        self._generation: Any = UNKNOWN

    def get(self, *, account_id: uuid.UUID, user_id: uuid.UUID, generation: Any) -> Standing:
        """The user's standing in the account, from the cache while ``generation`` (the
        counter's value the caller just read, None when unset) stands.

        A miss reads on a connection of its own, so the request's session opens no
        transaction for it (see ``helpdesk.messages.post_message``'s ``commit``).
        """
        if generation is UNKNOWN:
            return self._read(account_id, user_id)
        key = (user_id, account_id)
        now = time.monotonic()
        with self._lock:
            if generation != self._generation:
                self._entries.clear()
                self._generation = generation
            entry = self._entries.get(key)
        if entry is not None and entry[1] > now:
            return entry[0]
        standing = self._read(account_id, user_id)
        with self._lock:
            if self._generation == generation:  # else read before a change: not kept
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (standing, now + self._ttl)
        return standing

    def _read(self, account_id: uuid.UUID, user_id: uuid.UUID) -> Standing:
        with self._engine.connect() as connection:
            return standing_in(connection, account_id=account_id, user_id=user_id)

    def invalidate(self) -> None:
        """Forget every standing here, and tell every other process to do the same."""
        with self._lock:
            self._entries.clear()
            self._generation = UNKNOWN
        try:
            self._redis.incr(GENERATION_KEY)
        except redis.RedisError:
            current_app.logger.warning("standings generation not published; peers rely on TTL")


WATCHED = (User, Membership, AccountRole)


def _changes_standing(instance: Any) -> bool:
    """Whether ``instance``, about to be updated, changes a standing (a user: only some
    columns do; a new user has no standing anywhere yet)."""
    if isinstance(instance, User):
        attrs = inspect(instance).attrs
        return any(attrs[field].history.has_changes() for field in _USER_FIELDS)
    return isinstance(instance, Membership | AccountRole)


@event.listens_for(Session, "before_flush")
def _watch(session: Session, flush_context: Any, instances: Any) -> None:
    if (
        any(isinstance(instance, WATCHED) for instance in session.deleted)
        or any(isinstance(instance, Membership | AccountRole) for instance in session.new)
        or any(_changes_standing(instance) for instance in session.dirty)
    ):
        session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    if session.info.pop(_CHANGED, False) and has_app_context():
        current_app.extensions["turumba.standings"].invalidate()


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_CHANGED, None)
