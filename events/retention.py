"""Keeping the public event tables small: what is done is deleted after a while.

Published outbox rows and fired timers are only kept for inspection and replay
(``KEEP``); pending ones are never touched, however old. Deletion goes in batches (each
its own short statement) so pruning never holds a long lock on tables every request
writes to; the relay loop prunes every ``PRUNE_EVERY`` seconds and ``flask events prune``
does it on demand.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from events.outbox import OutboxEvent
from events.timers import Timer
from tenants.db import utcnow

KEEP = timedelta(days=7)
PRUNE_EVERY = 3600.0
BATCH = 5000


def _prune(session: Session, table, done, before: datetime, batch: int) -> int:
    deleted = 0
    while True:
        doomed = select(table.id).where(done.is_not(None), done < before).limit(batch)
        count = session.execute(delete(table).where(table.id.in_(doomed.scalar_subquery())))
        session.commit()
        deleted += count.rowcount
        if count.rowcount < batch:
            return deleted


def prune(
    session: Session, *, keep: timedelta = KEEP, now: datetime | None = None, batch: int = BATCH
) -> dict[str, int]:
    """Delete events published and timers fired more than ``keep`` ago; return the counts."""
    before = (now or utcnow()) - keep
    return {
        "events": _prune(session, OutboxEvent, OutboxEvent.published_at, before, batch),
        "timers": _prune(session, Timer, Timer.fired_at, before, batch),
    }
