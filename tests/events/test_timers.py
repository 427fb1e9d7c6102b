"""Timers fire once, at their moment, in their account's transaction; never by scanning."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from audit.service import SYSTEM
from events import names, timers
from events.outbox import OutboxEvent, emit
from events.relay import relay_forever
from events.timers import MAX_ATTEMPTS, Timer, fire_due
from tenants.db import db, utcnow
from tenants.registry import registry
from tenants.session import tenant_session


@pytest.fixture
def kind():
    """A timer kind of this test whose handler records each firing and emits an event."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    fired: list[tuple[uuid.UUID, object]] = []
    behaviour = {"fail": False}

    @timers.handler(name)
    def record(session, timer, now):
        fired.append((timer.subject_id, now))
        emit(
            session,
            account_id=timer.account_id,
            name=names.CONTACT_UPDATED,
            actor=SYSTEM,
            subject_type="contact",
            subject_id=timer.subject_id,
        )
        if behaviour["fail"]:
            raise RuntimeError("the handler broke")

    yield name, fired, behaviour
    timers.unregister(name)


def schedule(app, account_id, kind, subject_id, due_at):
    with app.app_context(), tenant_session(registry().get(uuid.UUID(account_id))) as session:
        timers.schedule(
            session,
            account_id=uuid.UUID(account_id),
            kind=kind,
            subject_id=subject_id,
            due_at=due_at,
        )


def rows(app, kind) -> list[Timer]:
    with app.app_context():
        db.session.expire_all()
        return list(db.session.scalars(select(Timer).where(Timer.kind == kind)))


def events_for(app, subject_id) -> int:
    with app.app_context():
        return len(
            db.session.scalars(
                select(OutboxEvent).where(OutboxEvent.subject_id == subject_id)
            ).all()
        )


def fire(app, **kwargs) -> int:
    with app.app_context():
        return fire_due(limit=10_000, **kwargs)


def test_a_timer_fires_once_at_its_moment_with_its_effects(app, account, kind):
    name, fired, _ = kind
    subject, now = uuid.uuid4(), utcnow()
    schedule(app, account.account_id, name, subject, now + timedelta(minutes=5))
    fire(app, now=now)
    assert fired == []
    moment = now + timedelta(minutes=5, seconds=1)
    assert fire(app, now=moment) >= 1
    assert fired == [(subject, moment)]
    (timer,) = rows(app, name)
    assert timer.fired_at is not None
    assert events_for(app, subject) == 1  # written in the timer's own transaction
    fire(app, now=moment + timedelta(hours=1))
    assert len(fired) == 1


def test_scheduling_again_replaces_the_pending_timer_and_cancel_drops_it(app, account, kind):
    name, fired, _ = kind
    subject, now = uuid.uuid4(), utcnow()
    schedule(app, account.account_id, name, subject, now + timedelta(minutes=1))
    schedule(app, account.account_id, name, subject, now + timedelta(minutes=30))
    (timer,) = rows(app, name)
    assert timer.due_at == now + timedelta(minutes=30)
    fire(app, now=now + timedelta(minutes=2))
    assert fired == []  # the earlier moment is gone
    with app.app_context(), tenant_session(registry().get(uuid.UUID(account.account_id))) as s:
        key = {"account_id": uuid.UUID(account.account_id), "kind": name, "subject_id": subject}
        assert timers.pending_timer(s, **key) is not None
        timers.cancel(s, **key)
    assert rows(app, name) == []
    fire(app, now=now + timedelta(hours=1))
    assert fired == []


def test_a_handler_may_schedule_the_next_timer_of_its_own_kind(app, account):
    name = f"test-{uuid.uuid4().hex[:8]}"
    account_id = uuid.UUID(account.account_id)
    subject, start = uuid.uuid4(), utcnow()

    @timers.handler(name)
    def again(session, timer, now):
        if timer.due_at < start + timedelta(minutes=3):
            timers.schedule(
                session,
                account_id=account_id,
                kind=name,
                subject_id=subject,
                due_at=timer.due_at + timedelta(minutes=1),
            )

    try:
        schedule(app, account.account_id, name, subject, start + timedelta(minutes=1))
        for minute in (1, 2, 3):
            fire(app, now=start + timedelta(minutes=minute))
        history = sorted(rows(app, name), key=lambda t: t.due_at)
        assert [t.due_at - start for t in history] == [timedelta(minutes=m) for m in (1, 2, 3)]
        assert all(t.fired_at is not None for t in history)
    finally:
        timers.unregister(name)


def test_a_failing_handler_changes_nothing_and_is_retried_later_then_given_up(app, account, kind):
    name, fired, behaviour = kind
    behaviour["fail"] = True
    subject, now = uuid.uuid4(), utcnow()
    schedule(app, account.account_id, name, subject, now)
    assert fire(app, now=now) == 0
    (timer,) = rows(app, name)
    assert timer.fired_at is None and timer.attempts == 1
    assert timer.due_at > now  # backed off
    assert events_for(app, subject) == 0  # its transaction rolled back
    for _ in range(MAX_ATTEMPTS - 1):
        fire(app, now=utcnow() + timedelta(days=1))
    (timer,) = rows(app, name)
    assert timer.attempts == MAX_ATTEMPTS and timer.fired_at is not None
    assert len(fired) == MAX_ATTEMPTS


def test_timers_of_an_account_that_is_gone_are_dropped(app, kind):
    name, fired, _ = kind
    with app.app_context():
        timers.schedule(
            db.session,
            account_id=uuid.uuid4(),
            kind=name,
            subject_id=uuid.uuid4(),
            due_at=utcnow(),
        )
        db.session.commit()
    fire(app)
    assert fired == []
    assert rows(app, name)[0].fired_at is not None


def test_two_firers_side_by_side_fire_each_timer_exactly_once(app, account, kind):
    name, fired, _ = kind
    now = utcnow()
    subjects = [uuid.uuid4() for _ in range(30)]
    for subject in subjects:
        schedule(app, account.account_id, name, subject, now)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def firer() -> None:
        try:
            with app.app_context():
                start.wait()
                while fire_due(limit=4):
                    pass
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=firer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert Counter(subject for subject, _ in fired) == Counter(dict.fromkeys(subjects, 1))


def test_the_relay_loop_and_the_cli_fire_due_timers(app, account, kind):
    name, fired, _ = kind
    first, second = uuid.uuid4(), uuid.uuid4()
    schedule(app, account.account_id, name, first, utcnow())
    with app.app_context():
        relay_forever(db.session, interval=0.01, should_stop=lambda: bool(fired))
    assert [subject for subject, _ in fired] == [first]
    schedule(app, account.account_id, name, second, utcnow())
    result = app.test_cli_runner().invoke(args=["events", "relay", "--once"])
    assert result.exit_code == 0, result.output
    assert "fired 1 timers" in result.output
    assert [subject for subject, _ in fired] == [first, second]
