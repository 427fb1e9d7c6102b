"""A cached view of the account registry, so requests never hit the catalog to find a tenant.

Each process keeps the accounts it has looked up. Any change to an account bumps a
generation counter in Redis; a process that sees a new generation drops its cache, so a
suspension made by the CLI takes effect on the very next request everywhere. If Redis
cannot be reached the cache falls back to a short time-to-live.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

import redis
from flask import current_app
from sqlalchemy import select
from sqlalchemy.engine import Engine

from tenants.models import Account, AccountStatus

GENERATION_KEY = "turumba:registry:generation"


@dataclass(frozen=True)
class AccountRecord:
    id: uuid.UUID
    name: str
    slug: str
    schema_name: str
    status: AccountStatus
    plan: str


class Registry:
    def __init__(self, engine: Engine, redis_client: redis.Redis, ttl: float) -> None:
        self._engine = engine
        self._redis = redis_client
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[uuid.UUID, tuple[float, AccountRecord | None]] = {}
        self._generation: bytes | None = None

    def get(self, account_id: uuid.UUID) -> AccountRecord | None:
        self._follow_generation()
        now = time.monotonic()
        cached = self._entries.get(account_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        record = self._load(account_id)
        with self._lock:
            self._entries[account_id] = (now, record)
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
        if generation != self._generation:
            with self._lock:
                self._entries.clear()
                self._generation = generation

    def _load(self, account_id: uuid.UUID) -> AccountRecord | None:
        table = Account.__table__
        with self._engine.connect() as conn:
            row = conn.execute(
                select(
                    table.c.id,
                    table.c.name,
                    table.c.slug,
                    table.c.schema_name,
                    table.c.status,
                    table.c.plan,
                ).where(table.c.id == account_id)
            ).one_or_none()
        return AccountRecord(*row) if row is not None else None


def registry() -> Registry:
    return current_app.extensions["turumba.registry"]
