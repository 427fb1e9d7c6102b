"""The Redis client of the running app, created in the app factory, never at import."""

from __future__ import annotations

import redis
from flask import current_app

#: Connections one process keeps to Redis at most. A thread (or, on gevent, a greenlet:
#: a thousand sockets disconnecting at once) that needs one more waits up to
#: :data:`POOL_WAIT` seconds for one to come free instead of failing.
POOL_SIZE = 50
POOL_WAIT = 5


def connect(url: str) -> redis.Redis:
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=POOL_SIZE,
        timeout=POOL_WAIT,
        socket_timeout=2,
        socket_connect_timeout=2,
    )
    return redis.Redis(connection_pool=pool)


def redis_client() -> redis.Redis:
    return current_app.extensions["turumba.redis"]
