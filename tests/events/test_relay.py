"""The relay publishes each committed outbox event once; consumers run once per event."""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter

import pytest
from rq.job import JobStatus
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.service import Actor
from core.jobs import queue
from core.redis import redis_client
from events import names
from events.consumers import consumers_of, deliver, register, unregister
from events.outbox import OutboxEvent, emit
from events.relay import (
    EVENTS_PER_JOB,
    STREAM,
    claim,
    dispatch_args,
    relay_forever,
    relay_once,
)
from tenants.db import db

SYSTEM = Actor(type="system")


def emit_events(account_id: uuid.UUID, count: int, name: str = names.CONTACT_CREATED) -> list:
    ids = []
    for i in range(count):
        event = emit(
            db.session,
            account_id=account_id,
            name=name,
            actor=SYSTEM,
            subject_type="contact",
            subject_id=uuid.uuid4(),
            payload={"name": [None, f"Contact {i}"]},
        )
        ids.append(str(event.id))
    return ids


def streamed(account_id: uuid.UUID) -> list[dict[str, str]]:
    entries = redis_client().xrange(STREAM)
    decoded = [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]
    return [entry for entry in decoded if entry["account_id"] == str(account_id)]


def rows(account_id: uuid.UUID) -> list[OutboxEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEvent).where(OutboxEvent.account_id == account_id)))


@pytest.fixture
def seen():
    """A consumer of contact.created that records what it saw, registered for one test."""
    received = []

    def record(event):
        received.append(event)

    register(names.CONTACT_CREATED, record, key=f"test-{uuid.uuid4().hex}")
    yield received
    unregister(names.CONTACT_CREATED, record)


def test_the_cli_publishes_committed_events_once(app):
    account_id = uuid.uuid4()
    with app.app_context():
        ids = emit_events(account_id, 3)
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["events", "relay", "--once", "--batch", "2"])
        assert result.exit_code == 0, result.output
        assert "published" in result.output
        entries = streamed(account_id)
        assert sorted(e["event_id"] for e in entries) == sorted(ids)
        first = next(e for e in entries if e["event_id"] == ids[0])
        assert first["name"] == "contact.created"
        assert first["actor_type"] == "system" and first["actor_id"] == ""
        assert json.loads(first["payload"]) == {"name": [None, "Contact 0"]}
        assert all(row.published_at is not None for row in rows(account_id))

        again = app.test_cli_runner().invoke(args=["events", "relay", "--once"])
        assert again.exit_code == 0, again.output
        assert len(streamed(account_id)) == 3


def test_a_rolled_back_change_publishes_nothing(app):
    account_id = uuid.uuid4()
    with app.app_context():
        emit_events(account_id, 2)
        db.session.rollback()
        while relay_once(db.session):
            pass
        assert streamed(account_id) == []
        assert rows(account_id) == []


def test_a_second_relay_skips_the_rows_another_one_has_claimed(app):
    account_id = uuid.uuid4()
    with app.app_context():
        ids = emit_events(account_id, 5)
        db.session.commit()
        with Session(db.engine) as holder:
            held = [e for e in claim(holder, limit=10_000) if e.account_id == account_id]
            assert len(held) == 5
            # The other relay sees none of the held rows while the first holds them.
            while relay_once(db.session):
                pass
            assert streamed(account_id) == []
            holder.rollback()  # the first relay dies: its rows are pending again
        while relay_once(db.session):
            pass
        assert sorted(e["event_id"] for e in streamed(account_id)) == sorted(ids)


def test_two_concurrent_relays_publish_each_event_exactly_once(app):
    account_id = uuid.uuid4()
    with app.app_context():
        ids = emit_events(account_id, 60)
        db.session.commit()
    start = threading.Barrier(2)
    published: list[int] = []
    errors: list[BaseException] = []

    def relay() -> None:
        try:
            with app.app_context():
                start.wait()
                total = 0
                while count := relay_once(db.session, limit=3):
                    total += count
                published.append(total)
                db.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    with app.app_context():
        counts = Counter(e["event_id"] for e in streamed(account_id))
        assert counts == Counter({event_id: 1 for event_id in ids})
        assert all(row.published_at is not None for row in rows(account_id))
    assert sum(published) >= 60


def test_published_events_reach_their_consumers(app, run_jobs, seen):
    account_id = uuid.uuid4()
    with app.app_context():
        ids = emit_events(account_id, 2)
        emit_events(account_id, 1, name=names.TAG_ADDED)  # nobody listens to this one
        db.session.commit()
        while relay_once(db.session):
            pass
    run_jobs()
    mine = [event for event in seen if event.account_id == account_id]
    assert sorted(str(event.id) for event in mine) == sorted(ids)
    assert all(event.name == "contact.created" for event in mine)
    assert mine[0].payload["name"][0] is None and mine[0].actor_type == "system"


def relay_all() -> list:
    """Publish everything pending; the dispatch jobs that this enqueued."""
    before = set(queue("default").job_ids)
    while relay_once(db.session):
        pass
    return [job for job in queue("default").jobs if job.id not in before]


def test_a_batch_goes_out_as_few_jobs_of_events_in_order(app):
    account_id = uuid.uuid4()
    with app.app_context():
        relay_all()
        ids = emit_events(account_id, 2 * EVENTS_PER_JOB + 5)
        db.session.commit()
        jobs = relay_all()
    assert {job.func_name for job in jobs} == {"events.consumers.deliver_batch"}
    sizes = [len(job.kwargs["events"]) for job in jobs]
    assert sizes == [EVENTS_PER_JOB, EVENTS_PER_JOB, 5]
    assert [e["event_id"] for job in jobs for e in job.kwargs["events"]] == ids


def test_a_batch_retries_only_the_consumer_that_failed_on_one_event(app, run_jobs):
    account_id = uuid.uuid4()
    calls = []
    broken: set[uuid.UUID] = set()

    def flaky(event):
        if event.account_id == account_id:
            calls.append(("flaky", event.id))
            if event.id in broken:
                raise RuntimeError("downstream is down")

    def steady(event):
        if event.account_id == account_id:
            calls.append(("steady", event.id))

    key = uuid.uuid4().hex
    register(names.CONTACT_CREATED, flaky, key=f"flaky-{key}")
    register(names.CONTACT_CREATED, steady, key=f"steady-{key}")
    try:
        with app.app_context():
            relay_all()
            first, second, third = (uuid.UUID(i) for i in emit_events(account_id, 3))
            db.session.commit()
            broken.add(second)
            (job,) = relay_all()
        run_jobs()
        assert calls == [
            ("flaky", first),
            ("steady", first),
            ("flaky", second),
            ("steady", second),
            ("flaky", third),
            ("steady", third),
        ]
        assert job.get_status(refresh=True) == JobStatus.SCHEDULED  # RQ's retry is due
        broken.clear()
        calls.clear()
        with app.app_context():  # the retry comes due
            ScheduledJobRegistry(queue=queue("default")).remove(job)
            queue("default").enqueue_job(job)
        run_jobs()
        assert calls == [("flaky", second)]
        assert job.get_status(refresh=True) == JobStatus.FINISHED
        assert job.return_value() == {str(first): [], str(second): [f"flaky-{key}"], str(third): []}
    finally:
        unregister(names.CONTACT_CREATED, flaky)
        unregister(names.CONTACT_CREATED, steady)


def test_a_consumer_runs_once_per_event_and_again_after_it_failed(app):
    account_id = uuid.uuid4()
    calls = []
    fail = [True]

    def flaky(event):
        calls.append(event.id)
        if fail[0]:
            raise RuntimeError("downstream is down")

    def steady(event):
        calls.append(("steady", event.id))

    key = uuid.uuid4().hex
    register(names.MESSAGE_CREATED, flaky, key=f"flaky-{key}")
    register(names.MESSAGE_CREATED, steady, key=f"steady-{key}")
    try:
        with app.app_context():
            (event_id,) = emit_events(account_id, 1, name=names.MESSAGE_CREATED)
            db.session.commit()
            (row,) = rows(account_id)
            args = dispatch_args(row)
            with pytest.raises(RuntimeError, match="consumer"):
                deliver(**args)
            assert calls == [row.id, ("steady", row.id)]
            fail[0] = False
            assert deliver(**args) == [f"flaky-{key}"]  # the retry: only the failed one
            assert deliver(**args) == []  # a duplicate delivery: nothing runs
            assert calls == [row.id, ("steady", row.id), row.id]
            assert str(row.id) == event_id
    finally:
        unregister(names.MESSAGE_CREATED, flaky)
        unregister(names.MESSAGE_CREATED, steady)
    left = {registration.key for registration in consumers_of(names.MESSAGE_CREATED)}
    assert not left & {f"flaky-{key}", f"steady-{key}"}


def test_registration_is_checked():
    def nothing(event):
        pass

    with pytest.raises(ValueError, match="unknown event"):
        register("contact.exploded", nothing)
    register(names.SLA_WARNING, nothing)
    try:
        with pytest.raises(ValueError, match="already registered"):
            register(names.SLA_WARNING, nothing)
    finally:
        unregister(names.SLA_WARNING, nothing)


def test_the_relay_loop_publishes_until_told_to_stop(app):
    account_id = uuid.uuid4()
    passes = iter(range(10_000))  # a bound, should the stop condition never come

    def done() -> bool:
        mine = [row for row in rows(account_id) if row.published_at is None]
        return not mine or next(passes, None) is None

    with app.app_context():
        ids = emit_events(account_id, 4)
        db.session.commit()
        relay_forever(db.session, limit=2, interval=0.01, should_stop=done)
        assert sorted(e["event_id"] for e in streamed(account_id)) == sorted(ids)
