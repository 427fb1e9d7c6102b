"""Timers: "do this for that conversation at that moment", without scanning anything.

A timer is a row of the public ``timers`` table: account, ``kind``, subject id, ``due_at``.
An account has at most one pending timer per (kind, subject): :func:`schedule` replaces
the pending one's due time, :func:`cancel` removes it. Finding what is due is one query on
a partial index of the pending rows, however many accounts and conversations there are.

:func:`fire_due` (run every second by the event relay, and usable as an RQ job) fires
each due timer in **its account's own transaction**: it locks the row (``FOR UPDATE SKIP
LOCKED``, so firers running side by side never fire the same timer), marks it fired and
calls the handler registered for its kind (:func:`handler`), which changes what it must
and may schedule the next timer. Everything commits together, so a crash fires nothing
half way and the timer stays pending; a handler that raises is retried with backoff,
and given up after :data:`MAX_ATTEMPTS`.

Handlers re-check the current state before acting: a timer whose reason went away
(the conversation was answered, woken up by hand, deleted) simply does nothing. Kinds
register themselves from the modules in :data:`events.subscribers.MODULES`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import DateTime, Index, Integer, String, Uuid, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from events import subscribers
from tenants.db import PublicBase, UuidPrimaryKey, db, utcnow
from tenants.registry import live_account
from tenants.session import tenant_session

log = logging.getLogger(__name__)

DEFAULT_BATCH = 100
MAX_ATTEMPTS = 5


class Timer(UuidPrimaryKey, PublicBase):
    __tablename__ = "timers"
    __table_args__ = (
        Index("ix_timers_due", "due_at", postgresql_where="fired_at IS NULL"),
        Index(
            "ix_timers_pending_subject",
            "account_id",
            "kind",
            "subject_id",
            unique=True,
            postgresql_where="fired_at IS NULL",
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    #: Which handler fires it (``sla``, ``snooze``, …).
    kind: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Failed firings so far; the next try waits longer each time.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


#: ``(session, timer, now)``: ``now`` is the moment of firing, not later than the clock.
Handler = Callable[[Session, Timer, datetime], None]
_handlers: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that fires timers of ``kind`` (one per kind).

    It is called with the account's session, inside the transaction that marks the timer
    fired, and the moment it is fired at; it must not commit.
    """

    def register(func: Handler) -> Handler:
        if _handlers.get(kind, func) is not func:
            raise ValueError(f"a handler for {kind!r} timers is already registered")
        _handlers[kind] = func
        return func

    return register


def unregister(kind: str) -> None:
    _handlers.pop(kind, None)


def schedule(
    session: Session, *, account_id: uuid.UUID, kind: str, subject_id: uuid.UUID, due_at: datetime
) -> None:
    """Fire ``kind`` for ``subject_id`` at ``due_at``, replacing its pending timer if any."""
    values = {
        "id": uuid.uuid4(),
        "account_id": account_id,
        "kind": kind,
        "subject_id": subject_id,
        "due_at": due_at,
        "attempts": 0,
        "created_at": utcnow(),
    }
    stmt = insert(Timer).values(**values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["account_id", "kind", "subject_id"],
            index_where=Timer.fired_at.is_(None),
            set_={"due_at": stmt.excluded.due_at, "attempts": 0},
        )
    )


def cancel(session: Session, *, account_id: uuid.UUID, kind: str, subject_id: uuid.UUID) -> None:
    """Drop the pending timer of ``kind`` for ``subject_id``, if there is one."""
    session.execute(delete(Timer).where(*_pending(account_id, kind, subject_id)))


def plan(
    session: Session,
    *,
    account_id: uuid.UUID,
    kind: str,
    subject_id: uuid.UUID,
    due_at: datetime | None,
) -> None:
    """Keep the pending timer of ``kind`` for ``subject_id`` at ``due_at``, or none when
    there is no moment to wait for (``due_at`` None)."""
    key = {"account_id": account_id, "kind": kind, "subject_id": subject_id}
    if due_at is None:
        cancel(session, **key)
    else:
        schedule(session, due_at=due_at, **key)


def pending_timer(
    session: Session, *, account_id: uuid.UUID, kind: str, subject_id: uuid.UUID
) -> Timer | None:
    return session.scalar(select(Timer).where(*_pending(account_id, kind, subject_id)))


def _pending(account_id: uuid.UUID, kind: str, subject_id: uuid.UUID) -> tuple:
    return (
        Timer.account_id == account_id,
        Timer.kind == kind,
        Timer.subject_id == subject_id,
        Timer.fired_at.is_(None),
    )


def fire_due(*, limit: int = DEFAULT_BATCH, now: datetime | None = None) -> int:
    """Fire up to ``limit`` timers due by ``now`` (default: the clock), earliest first;
    return how many fired.

    Plain arguments only, so it is also the RQ job (``enqueue(fire_due, limit=…)``).
    """
    subscribers.load()
    now = now or utcnow()
    with db.engine.connect() as conn:
        due = conn.execute(
            select(Timer.id, Timer.account_id)
            .where(Timer.fired_at.is_(None), Timer.due_at <= now)
            .order_by(Timer.due_at)
            .limit(limit)
        ).all()
    fired = 0
    for timer_id, account_id in due:
        try:
            fired += _fire(timer_id, account_id, now)
        except Exception:
            log.exception("timer %s failed", timer_id)
            _count_failure(timer_id)
    return fired


def _fire(timer_id: uuid.UUID, account_id: uuid.UUID, now: datetime) -> int:
    account = live_account(account_id)
    if account is None:
        _finish(timer_id)  # nobody is left to act for
        return 0
    with tenant_session(account) as session:
        timer = session.scalar(
            select(Timer)
            .where(Timer.id == timer_id, Timer.fired_at.is_(None), Timer.due_at <= now)
            .with_for_update(skip_locked=True)
        )
        if timer is None:  # fired, replaced by a later one, or held by another firer
            return 0
        timer.fired_at = utcnow()
        session.flush()
        func = _handlers.get(timer.kind)
        if func is None:
            log.warning("no handler for %s timers; %s dropped", timer.kind, timer.id)
            return 0
        func(session, timer, now)
    return 1


def _finish(timer_id: uuid.UUID) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            update(Timer)
            .where(Timer.id == timer_id, Timer.fired_at.is_(None))
            .values(fired_at=utcnow())
        )


def _count_failure(timer_id: uuid.UUID) -> None:
    """Retry later (30 s, 1, 2, 4 minutes…), and give up after :data:`MAX_ATTEMPTS`."""
    try:
        with db.engine.begin() as conn:
            attempts = conn.scalar(
                update(Timer)
                .where(Timer.id == timer_id, Timer.fired_at.is_(None))
                .values(attempts=Timer.attempts + 1)
                .returning(Timer.attempts)
            )
            if attempts is None:
                return
            if attempts >= MAX_ATTEMPTS:
                log.error("timer %s given up after %s attempts", timer_id, attempts)
                conn.execute(update(Timer).where(Timer.id == timer_id).values(fired_at=utcnow()))
            else:
                delay = timedelta(seconds=30 * 2 ** (attempts - 1))
                conn.execute(
                    update(Timer).where(Timer.id == timer_id).values(due_at=utcnow() + delay)
                )
    except Exception:  # bookkeeping; never let it hide the handler's failure
        log.exception("could not count a failed firing of timer %s", timer_id)
