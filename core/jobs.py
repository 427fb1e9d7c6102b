"""Queued work: named queues, an explicit Redis connection, retries, JSON arguments.

Jobs take plain values (ids, strings), never ORM objects, and run inside the
application context of ``flask worker``. Enqueue after the transaction that makes the
job meaningful has committed (:func:`tenants.hooks.after_commit`), or a worker may look
for rows that do not exist yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rq import Queue, Retry
from rq.job import Job
from rq.serializers import JSONSerializer

from core.redis import redis_client

QUEUES = ("high", "default", "low")
DEFAULT_RETRY = Retry(max=3, interval=[10, 60, 300])


def queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; queues are {', '.join(QUEUES)}")
    return Queue(name, connection=redis_client(), serializer=JSONSerializer)


def enqueue(
    func: Callable[..., Any],
    *args: Any,
    queue_name: str = "default",
    retry: Retry | None = DEFAULT_RETRY,
    **kwargs: Any,
) -> Job:
    return queue(queue_name).enqueue(func, *args, retry=retry, **kwargs)
