"""A cached view of the account registry, so requests never hit the catalog to find a tenant.

Each process keeps the accounts it has looked up. Any change to an account bumps a
generation counter in Redis; a process that sees a new generation drops its cache, so a
suspension made by the CLI takes effect on the very next request everywhere. If Redis
cannot be reached the cache falls back to a short time-to-live (see :class:`Registry`).
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis
from flask import current_app
from sqlalchemy import select
from sqlalchemy.engine import Engine

from tenants.models import Account, AccountStatus

GENERATION_KEY = "turumba:registry:generation"
#: ``Registry.get``'s default: read the generation from Redis itself.
ASK: Any = object()


@dataclass(frozen=True)
class AccountRecord:
    id: uuid.UUID
    name: str
    slug: str
    schema_name: str
    status: AccountStatus
    plan: str


class Registry:
    """The process's cache of accounts.

    Entries are also re-read at least every ``ttl`` seconds, in case a change's
    generation bump was lost (Redis down at the time). They are re-read together, in one
    query per ``ttl`` for the whole cache, not one per account: a process serving a
    thousand accounts would otherwise pay a registry query for every few requests.
    """

    def __init__(self, engine: Engine, redis_client: redis.Redis, ttl: float) -> None:
        self._engine = engine
        self._redis = redis_client
        self._ttl = ttl
        self._lock = threading.Lock()
        self._refreshing = threading.Lock()
        self._entries: dict[uuid.UUID, AccountRecord | None] = {}
        self._generation: bytes | None = None
        self._refreshed = time.monotonic()

    def get(self, account_id: uuid.UUID, *, generation: Any = ASK) -> AccountRecord | None:
        """The account, from the cache while the generation stands.

        ``generation`` is the counter's value when the caller has just read it (in one
        pipeline with its own Redis commands, see ``api.auth``); ``None`` means unset.
        """
        if generation is ASK:
            self._follow_generation()
        else:
            self._observe(generation)
        if time.monotonic() - self._refreshed >= self._ttl:
            self._refresh()
        try:
            return self._entries[account_id]
        except KeyError:
            pass
        record = self._load([account_id]).get(account_id)
        with self._lock:
            self._entries[account_id] = record
        return record

    def invalidate(self, account_id: uuid.UUID | None = None) -> None:
        """Forget one account (or all) here and tell every other process to do the same."""
        with self._lock:
            if account_id is None:
                self._entries.clear()
            else:
                self._entries.pop(account_id, None)
        try:
            self._redis.incr(GENERATION_KEY)
        except redis.RedisError:
            current_app.logger.warning("registry generation not published; peers rely on TTL")

    def _follow_generation(self) -> None:
        try:
            generation = self._redis.get(GENERATION_KEY)
        except redis.RedisError:
            return
        self._observe(generation)

    def _observe(self, generation: bytes | None) -> None:
        if generation != self._generation:
            with self._lock:
                self._entries.clear()
                self._generation = generation

    def _refresh(self) -> None:
        """Re-read every cached account (unknown ids are forgotten, asked again if need be).

        One thread refreshes while the others go on with the current entries. A new
        generation seen meanwhile wins: what was read before it is dropped.
        """
        if not self._refreshing.acquire(blocking=False):
            return
        try:
            with self._lock:
                self._refreshed = time.monotonic()
                generation = self._generation
                known = [key for key, record in self._entries.items() if record is not None]
            fresh = self._load(known)
            with self._lock:
                if self._generation == generation:
                    self._entries = dict(fresh)
        finally:
            self._refreshing.release()

    def _load(self, account_ids: list[uuid.UUID]) -> dict[uuid.UUID, AccountRecord]:
        table = Account.__table__
        columns = (
            table.c.id,
            table.c.name,
            table.c.slug,
            table.c.schema_name,
            table.c.status,
            table.c.plan,
        )
        found: dict[uuid.UUID, AccountRecord] = {}
        if not account_ids:
            return found
        with self._engine.connect() as conn:
            for start in range(0, len(account_ids), 1000):
                chunk = account_ids[start : start + 1000]
                for row in conn.execute(select(*columns).where(table.c.id.in_(chunk))):
                    found[row.id] = AccountRecord(*row)
        return found


def registry() -> Registry:
    return current_app.extensions["turumba.registry"]


def live_account(account_id: uuid.UUID) -> AccountRecord | None:
    """The account a background job acts for, or None once it is deleted (or never was)."""
    account = registry().get(account_id)
    if account is None or account.status is AccountStatus.DELETED:
        return None
    return account
