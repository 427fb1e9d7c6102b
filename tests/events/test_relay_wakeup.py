"""An idle relay sleeps until a commit announces an event, and polls only as a fallback.

Each relay here runs in a thread with a long fallback poll (30 s, timers too), so an
event published within the tests' 10 s bound was announced, not found by polling.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

from audit.service import Actor
from events import names
from events.outbox import NOTIFY_CHANNEL, OutboxEvent, emit, event_values
from events.relay import relay_forever
from tenants.db import db

SYSTEM = Actor(type="system")
#: Longer than any test waits: a relay that wakes only on its poll fails them.
SLOW_POLL = 30.0
BOUND = 10.0


@dataclass
class Relay:
    stop: threading.Event
    thread: threading.Thread
    errors: list[BaseException] = field(default_factory=list)


@pytest.fixture
def start_relay(app):
    """``relay_forever`` in a thread of its own, stopped when the test ends."""
    started: list[Relay] = []

    def start(**options) -> Relay:
        relay = Relay(threading.Event(), threading.Thread(target=lambda: run(relay, options)))
        started.append(relay)
        relay.thread.start()
        return relay

    def run(relay: Relay, options: dict) -> None:
        try:
            with app.app_context():
                relay_forever(db.session, should_stop=relay.stop.is_set, **options)
                db.session.remove()
        except BaseException as exc:  # surfaced when the test ends
            relay.errors.append(exc)

    yield start
    for relay in started:
        relay.stop.set()
        relay.thread.join(BOUND)
    assert [relay.errors for relay in started if relay.errors] == []


@pytest.fixture
def listener(database_url):
    """A connection of the test's own, listening on the outbox's channel."""
    url = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        yield conn


def heard(listener: psycopg.Connection) -> list[tuple[str, str]]:
    """The notifications the listener got within half a second."""
    return [(n.channel, n.payload) for n in listener.notifies(timeout=0.5)]


def relay_listeners(app, *, besides: tuple[int, ...] = ()) -> set[int]:
    """The backends of connections listening (last statement a LISTEN), but ``besides``."""
    with app.app_context(), db.engine.connect() as conn:
        pids = conn.scalars(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE 'LISTEN %'"
            )
        )
        return set(pids) - set(besides)


def wait_for(condition: Callable[[], object], what: str, timeout: float = BOUND):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {timeout} s")
        time.sleep(0.02)
    return value


def emit_one(account_id: uuid.UUID) -> uuid.UUID:
    event = emit(
        db.session,
        account_id=account_id,
        name=names.CONTACT_CREATED,
        actor=SYSTEM,
        subject_type="contact",
        subject_id=uuid.uuid4(),
    )
    db.session.flush()
    return event.id


def published(event_id: uuid.UUID) -> bool:
    at = db.session.scalar(select(OutboxEvent.published_at).where(OutboxEvent.id == event_id))
    db.session.rollback()
    return at is not None


def test_each_transaction_that_writes_events_notifies_once(app, listener):
    account_id = uuid.uuid4()
    with app.app_context():
        emit_one(account_id)
        emit_one(account_id)  # a second statement
        db.session.commit()
        assert heard(listener) == [(NOTIFY_CHANNEL, "")]

        emit_one(account_id)
        db.session.rollback()
        assert heard(listener) == []

        # A row written inside a larger statement, as helpdesk.messages.post_message does.
        values = event_values(
            account_id=account_id, name=names.MESSAGE_CREATED, actor=SYSTEM, subject_type="message"
        )
        written = insert(OutboxEvent).values(values).returning(OutboxEvent.id).cte("written")
        db.session.execute(select(written.c.id))
        db.session.commit()
        assert heard(listener) == [(NOTIFY_CHANNEL, "")]
        count = select(OutboxEvent.id).where(OutboxEvent.account_id == account_id)
        assert len(db.session.scalars(count).all()) == 3


def test_an_idle_relay_publishes_each_event_as_it_is_committed(app, start_relay):
    relay = start_relay(interval=SLOW_POLL, timer_interval=SLOW_POLL)
    wait_for(lambda: relay_listeners(app), "listening")
    time.sleep(0.3)  # past the pass that follows its LISTEN: the relay is waiting
    account_id = uuid.uuid4()
    with app.app_context():
        for _ in range(2):
            event_id = emit_one(account_id)
            db.session.commit()
            wait_for(lambda event_id=event_id: published(event_id), "published")
    assert relay.thread.is_alive()


def test_an_event_nobody_announced_is_published_by_the_fallback_poll(app, start_relay, listener):
    start_relay(interval=0.5, timer_interval=SLOW_POLL)
    wait_for(lambda: relay_listeners(app, besides=(listener.info.backend_pid,)), "listening")
    time.sleep(0.3)
    account_id = uuid.uuid4()
    with app.app_context():
        # Disabled in this transaction only: the event commits silently.
        trigger = "TRIGGER outbox_events_notify"
        db.session.execute(text(f"ALTER TABLE public.outbox_events DISABLE {trigger}"))
        event_id = emit_one(account_id)
        db.session.execute(text(f"ALTER TABLE public.outbox_events ENABLE {trigger}"))
        db.session.commit()
        assert heard(listener) == []
        wait_for(lambda: published(event_id), "published")


def test_a_waiting_relay_stops_promptly_and_closes_its_connection(app, start_relay):
    relay = start_relay(interval=SLOW_POLL, timer_interval=SLOW_POLL)
    listening = wait_for(lambda: relay_listeners(app), "listening")
    time.sleep(0.3)
    relay.stop.set()
    relay.thread.join(BOUND / 2)
    assert not relay.thread.is_alive()
    wait_for(lambda: not listening & relay_listeners(app), "disconnected")


def test_a_relay_whose_listening_connection_died_listens_again(app, start_relay):
    start_relay(interval=SLOW_POLL, timer_interval=SLOW_POLL)
    old = wait_for(lambda: relay_listeners(app), "listening")
    with app.app_context(), db.engine.connect() as conn:
        for pid in old:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    wait_for(lambda: relay_listeners(app, besides=tuple(old)), "listening again")
    time.sleep(0.3)
    with app.app_context():
        event_id = emit_one(uuid.uuid4())
        db.session.commit()
        wait_for(lambda: published(event_id), "published")
