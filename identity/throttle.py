"""Brute-force protection: count failures per identifier in Redis, lock after too many.

A :class:`Throttle` guards one kind of secret check (``scope``: log-in, the MFA step,
refresh, password-reset tokens...) for several kinds of identifier at once, each with
its own :class:`Limit` — typically the client IP (generous) and the account being
attacked (strict, e.g. the normalised email). Usage::

    throttle = Throttle(redis, "login", {"ip": Limit(50, 900, 900), "account": Limit(5, 900, 900)})
    throttle.check(ip=addr, account=email)      # raises Locked(retry_after) while locked
    if not password_ok:
        throttle.failure(ip=addr, account=email)  # the N-th failure in a window locks
    else:
        throttle.success(account=email)           # forgets the account's failures

``failure`` locks an identifier for ``lockout`` seconds once it has failed
``max_failures`` times within ``window`` seconds; the lock expires by itself (a Redis
TTL). ``success`` resets only the identifiers it is given: do not reset the IP, or one
valid account would launder an attacker's attempts on others.

If Redis cannot be reached the throttle is not enforced (a warning is logged), like
:mod:`api.ratelimit`: losing throttling for a moment beats refusing every log-in.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

import redis as redis_lib

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    max_failures: int
    #: Seconds over which failures are counted (from the first one).
    window: int
    #: Seconds the identifier stays locked once it reached ``max_failures``.
    lockout: int


class Locked(Exception):
    def __init__(self, kind: str, retry_after: int) -> None:
        super().__init__(f"{kind} locked for {retry_after} s")
        self.kind = kind
        self.retry_after = retry_after


def login_limits(config) -> dict[str, Limit]:
    """The configured limits for identity checks: per IP and per account identifier."""
    window, lockout = config.login_failure_window, config.login_lockout
    return {
        "ip": Limit(config.login_ip_max_failures, window, lockout),
        "account": Limit(config.login_max_failures, window, lockout),
    }


class Throttle:
    def __init__(self, redis: redis_lib.Redis, scope: str, limits: Mapping[str, Limit]) -> None:
        self.redis = redis
        self.scope = scope
        self.limits = dict(limits)

    def _key(self, kind: str, identifier: str, what: str) -> str:
        return f"turumba:throttle:{self.scope}:{kind}:{identifier.lower()}:{what}"

    def _given(self, identifiers: Mapping[str, str | None]) -> list[tuple[str, str]]:
        unknown = set(identifiers) - set(self.limits)
        if unknown:
            raise ValueError(f"no limit for {sorted(unknown)} in throttle {self.scope!r}")
        return [(kind, str(value)) for kind, value in identifiers.items() if value]

    def check(self, **identifiers: str | None) -> None:
        """Raise :class:`Locked` (with the longest wait) if any identifier is locked."""
        given = self._given(identifiers)
        try:
            pipe = self.redis.pipeline()
            for kind, identifier in given:
                pipe.pttl(self._key(kind, identifier, "lock"))
            ttls = pipe.execute()
        except redis_lib.RedisError:
            log.warning("throttle %s not enforced: redis unavailable", self.scope)
            return
        locked = [(ttl, kind) for ttl, (kind, _) in zip(ttls, given, strict=True) if ttl > 0]
        if locked:
            ttl, kind = max(locked)
            raise Locked(kind, max(1, math.ceil(ttl / 1000)))

    def failure(self, **identifiers: str | None) -> None:
        """Count a failure for each identifier; lock those that reached their limit."""
        given = self._given(identifiers)
        try:
            pipe = self.redis.pipeline()
            for kind, identifier in given:
                key = self._key(kind, identifier, "fails")
                pipe.incr(key)
                pipe.expire(key, self.limits[kind].window, nx=True)
            counts = pipe.execute()[::2]
            pipe = self.redis.pipeline()
            for count, (kind, identifier) in zip(counts, given, strict=True):
                limit = self.limits[kind]
                if count >= limit.max_failures:
                    pipe.set(self._key(kind, identifier, "lock"), 1, ex=max(1, limit.lockout))
                    pipe.delete(self._key(kind, identifier, "fails"))
            pipe.execute()
        except redis_lib.RedisError:
            log.warning("throttle %s not counting: redis unavailable", self.scope)

    def success(self, **identifiers: str | None) -> None:
        """Forget the failures of the given identifiers."""
        given = self._given(identifiers)
        try:
            if given:
                self.redis.delete(*(self._key(k, i, "fails") for k, i in given))
        except redis_lib.RedisError:
            log.warning("throttle %s not reset: redis unavailable", self.scope)

    def unlock(self, **identifiers: str | None) -> None:
        """Lift locks and failures (an operator's or a test's tool)."""
        given = self._given(identifiers)
        if given:
            self.redis.delete(*(self._key(k, i, w) for k, i in given for w in ("fails", "lock")))
