"""Fixed-window request limits kept in Redis, shared by every process.

If Redis cannot be reached the limit is not enforced (and a warning is logged): losing
brute-force throttling for a moment beats refusing every log-in.
"""

from __future__ import annotations

import time

import redis
from flask import current_app, request

from api.errors import fail
from core.redis import redis_client


def limit(scope: str) -> None:
    """Count this request against ``scope`` for the caller's IP; 429 past the limit."""
    config = current_app.extensions["turumba.config"]
    window = config.auth_rate_window
    bucket = int(time.time() // window)
    key = f"turumba:rate:{scope}:{request.remote_addr}:{bucket}"
    try:
        pipe = redis_client().pipeline()
        pipe.incr(key)
        pipe.expire(key, window)
        count, _ = pipe.execute()
    except redis.RedisError:
        current_app.logger.warning("rate limit for %s not enforced: redis unavailable", scope)
        return
    if count > config.auth_rate_limit:
        retry_after = max(1, int(window - time.time() % window))
        fail(
            429,
            "rate_limited",
            f"Too many attempts; try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )
