"""How a message reaches the database: a plain one is a single autocommitted statement;
anything more (mentions, a status change) is one transaction, committed once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event

from events import names
from tenants.db import db

from .test_conversations import events, setup_desk
from .test_inbox import make
from .test_reading import inbound, post_message, reply


@dataclass
class Traffic:
    statements: list[str] = field(default_factory=list)
    commits: int = 0


@contextmanager
def traffic(app) -> Iterator[Traffic]:
    """The statements and the commits the app sends to PostgreSQL while the block runs."""
    seen = Traffic()

    def statement(conn, cursor, sql, *args) -> None:
        seen.statements.append(sql)

    def commit(conn) -> None:
        seen.commits += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


def test_a_plain_message_is_one_statement_and_no_transaction(app, client, account):
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id)  # the caller's standing is remembered now
    with traffic(app) as seen:
        posted = reply(client, account, conversation_id, body="Sorted!")
    assert len(seen.statements) == 1
    assert seen.statements[0].startswith("WITH conversation AS")
    assert seen.commits == 0  # autocommit: no BEGIN, no COMMIT
    created = events(app, account, names.MESSAGE_CREATED)
    assert [e.subject_id for e in created][-1].hex == posted["id"].replace("-", "")
    shown = client.get(account.url(f"/conversations/{conversation_id}"), headers=account.headers)
    assert shown.json["first_reply_at"] == posted["created_at"]
    assert shown.json["waiting_since"] is None


def test_mentions_and_wake_ups_take_one_transaction(app, client, account, agent):
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    inbound(client, account, conversation_id)
    with traffic(app) as seen:
        reply(client, account, conversation_id, private=True, mentions=[agent.user_id])
    assert seen.commits == 1
    snoozed = client.post(
        account.url(f"/conversations/{conversation_id}/status"),
        json={"status": "snoozed"},
        headers=account.headers,
    )
    assert snoozed.status_code == 200, snoozed.json
    with traffic(app) as seen:
        inbound(client, account, conversation_id, body="Any news?")
    assert seen.commits == 1
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
