"""The outbox relay: moves committed events from the outbox table to Redis.

One pass (:func:`relay_once`) claims a batch of pending rows with
``SELECT … FOR UPDATE SKIP LOCKED`` (so relays running side by side never claim the same
row), hands the batch to Redis in one transaction — dispatch jobs on the ``default``
queue, each carrying up to :data:`EVENTS_PER_JOB` events in order
(:func:`events.consumers.deliver_batch`), and an entry per event on the capped stream
:data:`STREAM` for realtime readers — and marks the rows published in the same database
transaction, committed only after Redis accepted the batch.

When Redis fails, the transaction rolls back: the rows stay pending and a later pass
publishes them again, so nothing is lost. A batch that Redis accepted but whose commit
failed is published again too, so delivery is *at least once*; consumers are idempotent
by event id (see :mod:`events.consumers`).

When nothing is pending the relay does not poll: it waits on a connection of its own
that listens (``LISTEN``) on :data:`events.outbox.NOTIFY_CHANNEL`, which a trigger on the
outbox notifies once per inserting statement, and goes again as soon as a commit
announces an event. Polling every 20 ms cost 7-9 % of a core and 2 % of PostgreSQL's
when idle and added 10 ms to an event's latency on average; waiting costs about 0.4 % and
0.1 % (the timers' pass and the fallback poll, once a second), and the median from event
to automation action fell from about 34 to 23 ms (``bench/automation.py``).

While events keep coming, a pass that published is followed by a pause of
:data:`GATHER` before the next, so they go out in batches as they did when polled: a pass
per announcement doubled the relay's CPU per event in a burst and lost about a tenth of
the throughput.

``interval`` is only the fallback poll, for a notification that cannot come: a database
not yet migrated to the trigger, a LISTEN connection that died (it is opened again; one
cut silently is not noticed, and then each event may wait up to ``interval``).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from select import POLLIN, poll
from typing import Any

import psycopg
from psycopg import sql
from redis.exceptions import RedisError
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.jobs import enqueue
from core.redis import redis_client
from events.outbox import NOTIFY_CHANNEL, OutboxEvent
from events.retention import PRUNE_EVERY, prune
from events.timers import fire_due
from tenants.db import utcnow

log = logging.getLogger(__name__)

#: The Redis stream every published event is appended to, for realtime consumers.
STREAM = "turumba:events"
#: Roughly how many entries the stream keeps (``XADD … MAXLEN ~``).
STREAM_MAXLEN = 100_000
DEFAULT_BATCH = 100
#: Events per dispatch job: enough that RQ's cost per job is small beside the consumers'
#: work, few enough that a burst spreads over every worker.
EVENTS_PER_JOB = 20
#: Seconds between passes when no notification comes (see above); the timers fire every
#: second anyway.
DEFAULT_INTERVAL = 1.0
#: After a pass that published, seconds before the next (see above).
GATHER = 0.02
#: While Redis is down: the first pause before trying again, doubled up to the last.
FIRST_RETRY = 0.02
LAST_RETRY = 30.0
#: How often a wait asks ``should_stop``.
STOP_CHECK = 0.1
#: Seconds before trying again to open the LISTEN connection after opening it failed.
LISTEN_RETRY = 5.0


class RelayError(RuntimeError):
    """Redis refused a batch; its events stay pending."""

    def __init__(self, pending: int, cause: Exception) -> None:
        super().__init__(f"Redis refused the batch ({cause}); {pending} events stay pending")
        self.pending = pending


def claim(session: Session, *, limit: int = DEFAULT_BATCH) -> list[OutboxEvent]:
    """Lock up to ``limit`` pending events, oldest first, skipping rows another relay holds."""
    return list(
        session.scalars(
            select(OutboxEvent)
            .where(OutboxEvent.published_at.is_(None))
            .order_by(OutboxEvent.occurred_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def dispatch_args(event: OutboxEvent) -> dict[str, Any]:
    """The event as plain JSON values: the dispatch job's keyword arguments."""
    return {
        "event_id": str(event.id),
        "name": event.name,
        "account_id": str(event.account_id),
        "occurred_at": event.occurred_at.isoformat(),
        "actor_type": event.actor_type,
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "causation_depth": event.causation_depth,
        "subject_type": event.subject_type,
        "subject_id": str(event.subject_id) if event.subject_id else None,
        "payload": event.payload or {},
    }


def publish(events: list[OutboxEvent]) -> None:
    """Hand a batch to Redis in one transaction: its dispatch jobs and a stream entry per
    event. Raises RedisError."""
    from events.consumers import deliver_batch  # the job function; imported late, it imports us

    batch = [dispatch_args(event) for event in events]
    with redis_client().pipeline() as pipe:
        for start in range(0, len(batch), EVENTS_PER_JOB):
            chunk = batch[start : start + EVENTS_PER_JOB]
            enqueue(
                deliver_batch,
                queue_name="default",
                pipeline=pipe,
                description=f"deliver {len(chunk)} events",
                events=chunk,
            )
        for fields in batch:
            entry = {k: "" if v is None else v for k, v in fields.items()}
            entry["payload"] = json.dumps(fields["payload"])
            pipe.xadd(STREAM, entry, maxlen=STREAM_MAXLEN, approximate=True)
        pipe.execute()


def relay_once(session: Session, *, limit: int = DEFAULT_BATCH) -> int:
    """One pass: publish up to ``limit`` pending events; return how many were published.

    This is a loop driver, not a service: it owns its transactions. On a Redis error it
    rolls back, counts an attempt on the claimed rows in a second small transaction and
    raises :class:`RelayError`.
    """
    events = claim(session, limit=limit)
    if not events:
        session.rollback()
        return 0
    ids = [event.id for event in events]
    try:
        publish(events)
    except RedisError as exc:
        session.rollback()
        _count_attempt(session, ids)
        raise RelayError(len(ids), exc) from exc
    except BaseException:
        session.rollback()
        raise
    session.execute(
        update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(published_at=utcnow())
    )
    session.commit()
    return len(ids)


def _count_attempt(session: Session, ids: list[uuid.UUID]) -> None:
    try:
        session.execute(
            update(OutboxEvent)
            .where(OutboxEvent.id.in_(ids), OutboxEvent.published_at.is_(None))
            .values(attempts=OutboxEvent.attempts + 1)
        )
        session.commit()
    except Exception:  # the count is a diagnostic; never let it hide the Redis error
        session.rollback()
        log.exception("could not count a failed relay attempt")


class Listener:
    """The relay's own connection, listening on :data:`NOTIFY_CHANNEL`; opened on first
    use and again after it died. It comes from ``engine``'s pool (so with the
    application's connection settings) and leaves it: it stays open while idle.

    It waits on the socket itself: psycopg's own timed wait for notifications (3.3) spun for
    about a millisecond of CPU at each call's end, most of what an idle relay cost.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: psycopg.Connection | None = None
        self._readable = poll()
        self._socket = -1
        self._open_at = 0.0

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a notification; True when one came, or when
        events may have been committed unheard (the connection just opened, or died).

        Every notification received by then is taken too: one pass publishes them all.
        Without a connection it sleeps, and the caller's next pass is a poll.
        """
        if self._connection is None:
            if time.monotonic() >= self._open_at and self._listen():
                return True
            time.sleep(timeout)
            return False
        try:
            if not self._readable.poll(timeout * 1000):
                return False
            # Data, a closed socket or an error: taking the notifications reads it all.
            return sum(1 for _ in self._connection.notifies(timeout=0)) > 0
        except psycopg.Error:
            log.warning("event relay: the LISTEN connection died; polling until it is back")
            self.close()
            return True

    def _listen(self) -> bool:
        connection = None
        try:
            pooled = self._engine.raw_connection()
            connection = pooled.driver_connection
            pooled.detach()
            connection.autocommit = True
            connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(NOTIFY_CHANNEL)))
        except Exception:
            log.exception("event relay: cannot LISTEN for new events; polling meanwhile")
            if connection is not None:
                connection.close()
            self._open_at = time.monotonic() + LISTEN_RETRY
            return False
        self._connection, self._socket = connection, connection.fileno()
        self._readable.register(self._socket, POLLIN)
        return True

    def close(self) -> None:
        if self._connection is not None:
            self._readable.unregister(self._socket)
            self._connection.close()
            self._connection = None


def _wait(until: float, should_stop: Callable[[], bool], listener: Listener | None = None) -> None:
    """Until ``until`` (``time.monotonic()``), ``should_stop()``, or a notification."""
    while not should_stop() and (left := until - time.monotonic()) > 0:
        step = min(left, STOP_CHECK)
        if listener is None:
            time.sleep(step)
        elif listener.wait(step):
            return


def relay_forever(
    session: Session,
    *,
    limit: int = DEFAULT_BATCH,
    interval: float = DEFAULT_INTERVAL,
    should_stop: Callable[[], bool] = lambda: False,
    timer_interval: float = 1.0,
) -> None:
    """Relay until ``should_stop()``: a full batch goes on at once, otherwise wait for a
    new event's notification, at most ``interval``; while Redis is down, back off from
    :data:`FIRST_RETRY` up to :data:`LAST_RETRY` seconds.

    Every ``timer_interval`` seconds it also fires the due timers (:mod:`events.timers`),
    so whatever runs the relay keeps deadlines and wake-ups on time; every hour it prunes
    what is long done (:mod:`events.retention`).
    """
    listener = Listener(session.get_bind())
    backoff = FIRST_RETRY
    timers_at = 0.0
    prune_at = time.monotonic() + PRUNE_EVERY
    try:
        while not should_stop():
            if time.monotonic() >= prune_at:
                prune_at = time.monotonic() + PRUNE_EVERY
                try:
                    prune(session)
                except Exception:
                    session.rollback()
                    log.exception("event relay: pruning failed")
            if time.monotonic() >= timers_at:
                timers_at = time.monotonic() + timer_interval
                try:
                    fire_due(limit=limit)
                except Exception:  # the database is away: the relay pass below will say so
                    log.exception("event relay: firing timers failed")
            try:
                published = relay_once(session, limit=limit)
            except RelayError as exc:
                log.warning("event relay: %s", exc)
                _wait(time.monotonic() + backoff, should_stop)
                backoff = min(backoff * 2, LAST_RETRY)
                continue
            backoff = FIRST_RETRY
            if published < limit:
                if published:
                    _wait(time.monotonic() + GATHER, should_stop)
                _wait(min(time.monotonic() + interval, timers_at), should_stop, listener)
    finally:
        listener.close()
