"""The Redis client of the running app, created in the app factory, never at import."""

from __future__ import annotations

import redis
from flask import current_app


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def redis_client() -> redis.Redis:
    return current_app.extensions["turumba.redis"]
