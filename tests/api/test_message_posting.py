"""How a message reaches the database: a plain one is a single autocommitted statement;
anything more (mentions, a status change) is one transaction, committed once."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from psycopg import pq
from sqlalchemy import event

from events import names
from tenants.db import db

from .test_conversations import events, setup_desk
from .test_inbox import make
from .test_reading import inbound, post_message, reply


@dataclass
class Wire:
    """What the app's connections said to PostgreSQL, from libpq's protocol trace."""

    lines: list[str] = field(default_factory=list)

    def sent(self, message: str) -> list[str]:
        """The texts the client sent in ``message``s (``Parse``: a statement; ``Query``:
        a simple one, such as BEGIN)."""
        return [line.split(" ", 2)[2] for line in self.lines if line.startswith(f"F {message} ")]

    @property
    def round_trips(self) -> int:
        """Every exchange ends with the server's ReadyForQuery."""
        return sum(line.startswith("B ReadyForQuery") for line in self.lines)


@contextmanager
def wire(app) -> Iterator[Wire]:
    """Trace every connection the app checks out of its pool while the block runs."""
    seen = Wire()
    traced: list = []
    with app.app_context():
        pool = db.engine.pool
    with tempfile.TemporaryFile("w+") as log:

        def checkout(dbapi_connection, record, proxy) -> None:
            dbapi_connection.pgconn.trace(log.fileno())
            dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            traced.append(dbapi_connection)

        def checkin(dbapi_connection, record) -> None:
            if dbapi_connection in traced:
                dbapi_connection.pgconn.untrace()
                traced.remove(dbapi_connection)

        event.listen(pool, "checkout", checkout)
        event.listen(pool, "checkin", checkin)
        try:
            yield seen
        finally:
            event.remove(pool, "checkout", checkout)
            event.remove(pool, "checkin", checkin)
            for connection in traced:
                connection.pgconn.untrace()
            log.seek(0)
            # One message per entry: "F\t26\tParse\t "" "select ..."" (direction, length,
            # name, contents); a statement's own line breaks continue its entry.
            for entry in re.split(r"\n(?=[FB]\t)", log.read().strip()):
                direction, _, message, contents = [*entry.split("\t", 3), ""][:4]
                seen.lines.append(f"{direction} {message} {contents.strip()}")


def test_a_plain_message_is_one_statement_and_no_transaction(app, client, account):
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id)  # the caller's standing is remembered now
    with wire(app) as seen:
        posted = reply(client, account, conversation_id, body="Sorted!")
    assert seen.round_trips == 1
    (statement,) = seen.sent("Parse")
    assert statement.startswith('"" "WITH conversation AS')
    assert seen.sent("Query") == []  # autocommit: no BEGIN, no COMMIT
    created = events(app, account, names.MESSAGE_CREATED)
    assert [e.subject_id for e in created][-1].hex == posted["id"].replace("-", "")
    shown = client.get(account.url(f"/conversations/{conversation_id}"), headers=account.headers)
    assert shown.json["first_reply_at"] == posted["created_at"]
    assert shown.json["waiting_since"] is None


def test_mentions_and_wake_ups_take_one_transaction(app, client, account, agent):
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id)
    with wire(app) as seen:
        reply(client, account, conversation_id, private=True, mentions=[agent.user_id])
    assert seen.sent("Query") == ['"BEGIN"', '"COMMIT"']
    snoozed = client.post(
        account.url(f"/conversations/{conversation_id}/status"),
        json={"status": "snoozed"},
        headers=account.headers,
    )
    assert snoozed.status_code == 200, snoozed.json
    with wire(app) as seen:
        inbound(client, account, conversation_id, body="Any news?")
    assert seen.sent("Query") == ['"BEGIN"', '"COMMIT"']
    shown = client.get(account.url(f"/conversations/{conversation_id}"), headers=account.headers)
    assert shown.json["status"] == "open"


def test_a_refused_message_leaves_nothing_behind(app, client, account, other_account):
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    for status in ("resolved", "closed"):
        moved = client.post(
            account.url(f"/conversations/{conversation_id}/status"),
            json={"status": status},
            headers=account.headers,
        )
        assert moved.status_code == 200, moved.json
    before = len(events(app, account))
    closed = client.post(
        account.url(f"/conversations/{conversation_id}/messages"),
        json={"direction": "inbound", "sender_type": "contact", "body": "Hello again"},
        headers=account.headers,
    )
    assert closed.status_code == 409
    assert closed.json["code"] == "conversation_closed"
    # Another account's member names the same conversation: 404, as for one that never was.
    foreign = client.post(
        other_account.url(f"/conversations/{conversation_id}/messages"),
        json={"direction": "outbound", "sender_type": "agent", "body": "Hi"},
        headers=other_account.headers,
    )
    assert foreign.status_code == 404
    assert foreign.json["code"] == "conversation_not_found"
    assert len(events(app, account)) == before
    listed = client.get(
        account.url(f"/conversations/{conversation_id}/messages"), headers=account.headers
    )
    assert listed.json["items"] == []


def test_posting_is_the_same_for_every_kind_of_message(client, account):
    """Notes touch no timestamp; inbound starts the wait; a reply ends it, once."""
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)

    def shown():
        return client.get(
            account.url(f"/conversations/{conversation_id}"), headers=account.headers
        ).json

    start = shown()
    note = post_message(
        client,
        account,
        conversation_id,
        direction="outbound",
        sender_type="agent",
        body="internal",
        private=True,
    )
    assert note["private"] is True
    assert shown()["last_activity_at"] == start["last_activity_at"]
    first = inbound(client, account, conversation_id)
    assert shown()["waiting_since"] == first["created_at"]
    inbound(client, account, conversation_id, body="Still there?")
    assert shown()["waiting_since"] == first["created_at"]
    answer = reply(client, account, conversation_id)
    reply(client, account, conversation_id, body="And another thing")
    after = shown()
    assert after["first_reply_at"] == answer["created_at"]
    assert after["waiting_since"] is None
