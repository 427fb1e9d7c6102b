"""Conversations: lifecycle state machine, assignment, listing, messages, events, isolation."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from events.outbox import OutboxEvent
from helpdesk import states
from tenants.db import db

FUTURE = (datetime.now(UTC) + timedelta(days=3)).isoformat()


def setup_desk(client, member):
    channel = client.post(
        member.url("/channels"),
        json={"type": "email", "name": "Support"},
        headers=member.headers,
    )
    assert channel.status_code == 201, channel.json
    contact = client.post(
        member.url("/contacts"),
        json={"name": "Grace", "email": f"g{uuid.uuid4().hex[:8]}@example.com"},
        headers=member.headers,
    )
    assert contact.status_code == 201, contact.json
    return channel.json["id"], contact.json["id"]


def open_conversation(client, member, **fields):
    channel_id, contact_id = setup_desk(client, member)
    body = {"channel_id": channel_id, "contact_id": contact_id, "subject": "Help", **fields}
    response = client.post(member.url("/conversations"), json=body, headers=member.headers)
    assert response.status_code == 201, response.json
    return response.json


def set_status(client, member, conversation, status, **extra):
    return client.post(
        member.url(f"/conversations/{conversation['id']}/status"),
        json={"status": status, **extra},
        headers=member.headers,
    )


def events(app, member, name=None):
    with app.app_context():
        query = select(OutboxEvent).where(OutboxEvent.account_id == uuid.UUID(member.account_id))
        if name:
            query = query.where(OutboxEvent.name == name)
        return list(db.session.scalars(query.order_by(OutboxEvent.occurred_at)))


def count_events(app, member):
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(OutboxEvent)
            .where(OutboxEvent.account_id == uuid.UUID(member.account_id))
        )


#: API calls that bring a freshly created, assigned conversation into each status.
PATHS = {
    "open": [("open", {})],
    "assigned": [],
    "pending": [("pending", {})],
    "snoozed": [("snoozed", {"snoozed_until": FUTURE})],
    "resolved": [("resolved", {})],
    "closed": [("resolved", {}), ("closed", {})],
}


@pytest.mark.parametrize("current,target", list(itertools.product(states.STATUSES, repeat=2)))
def test_every_transition_is_allowed_or_refused_by_the_state_machine(
    client, account, agent, current, target
):
    conversation = open_conversation(client, account, assignee_id=agent.user_id)
    assert conversation["status"] == "assigned"
    for status, extra in PATHS[current]:
        assert set_status(client, agent, conversation, status, **extra).status_code == 200
    extra = {"snoozed_until": FUTURE} if target == "snoozed" else {}
    response = set_status(client, agent, conversation, target, **extra)
    url = account.url(f"/conversations/{conversation['id']}")
    if target in states.TRANSITIONS[current]:
        assert response.status_code == 200, response.json
        assert response.json["status"] == target
        assert (response.json["resolved_at"] is not None) == (target in ("resolved", "closed"))
        assert (response.json["snoozed_until"] is not None) == (target == "snoozed")
    else:
        assert response.status_code == 409
        assert response.json["code"] == "illegal_transition"
        assert response.json["errors"]["status"] == list(states.TRANSITIONS[current])
        assert client.get(url, headers=account.headers).json["status"] == current


def test_status_preconditions(client, account):
    conversation = open_conversation(client, account)
    assert conversation["status"] == "open"
    needs_assignee = set_status(client, account, conversation, "assigned")
    assert needs_assignee.status_code == 409
    assert needs_assignee.json["code"] == "assignee_required"
    # Snoozing needs a future time, or none at all (until the contact's next message).
    past = set_status(client, account, conversation, "snoozed", snoozed_until="2001-01-01T00:00Z")
    assert past.status_code == 422
    assert "snoozed_until" in past.json["errors"]
    stray = set_status(client, account, conversation, "pending", snoozed_until=FUTURE)
    assert stray.status_code == 422
    unknown = set_status(client, account, conversation, "archived")
    assert unknown.status_code == 422


def test_assignment_moves_open_and_assigned(client, account, agent, add_member):
    conversation = open_conversation(client, account)
    url = account.url(f"/conversations/{conversation['id']}/assign")
    assigned = client.post(url, json={"assignee_id": agent.user_id}, headers=agent.headers)
    assert assigned.status_code == 200
    assert (assigned.json["assignee_id"], assigned.json["status"]) == (agent.user_id, "assigned")
    other = add_member(account.account_id, "agent")
    moved = client.post(url, json={"assignee_id": other.user_id}, headers=account.headers)
    assert (moved.json["assignee_id"], moved.json["status"]) == (other.user_id, "assigned")
    unassigned = client.post(url, json={"assignee_id": None}, headers=account.headers)
    assert (unassigned.json["assignee_id"], unassigned.json["status"]) == (None, "open")
    stranger = client.post(url, json={"assignee_id": str(uuid.uuid4())}, headers=account.headers)
    assert stranger.status_code == 422
    assert "assignee_id" in stranger.json["errors"]


def test_list_filters_and_sorts(client, account, agent):
    channel_id, contact_id = setup_desk(client, account)
    made = {}
    for priority in ("low", "urgent", "none", "high"):
        made[priority] = client.post(
            account.url("/conversations"),
            json={"channel_id": channel_id, "contact_id": contact_id, "priority": priority},
            headers=account.headers,
        ).json
    client.post(
        account.url(f"/conversations/{made['low']['id']}/assign"),
        json={"assignee_id": agent.user_id},
        headers=account.headers,
    )

    def listed(**query):
        response = client.get(
            account.url("/conversations"), query_string=query, headers=agent.headers
        )
        assert response.status_code == 200, response.json
        return [c["priority"] for c in response.json["items"]]

    assert listed(sort="-priority") == ["urgent", "high", "low", "none"]
    assert listed(sort="priority") == ["none", "low", "high", "urgent"]
    assert listed(filter="priority:in:high,urgent", sort="priority") == ["high", "urgent"]
    assert listed(filter=f"assignee_id:eq:{agent.user_id}") == ["low"]
    assert listed(filter="status:eq:assigned") == ["low"]
    assert listed(filter=f"channel_id:eq:{channel_id}", sort="-priority")[0] == "urgent"
    assert listed(filter="team_id:isnull:true", sort="created_at") == [
        "low",
        "urgent",
        "none",
        "high",
    ]
    assert listed(filter="priority:eq:bogus") == []
    bad = client.get(
        account.url("/conversations"), query_string={"sort": "subject"}, headers=account.headers
    )
    assert bad.status_code == 400 and bad.json["code"] == "invalid_sort"


def test_patch_changes_fields_and_checks_references(client, account):
    conversation = open_conversation(client, account)
    url = account.url(f"/conversations/{conversation['id']}")
    team = client.post(account.url("/teams"), json={"name": "Tier 1"}, headers=account.headers)
    patched = client.patch(
        url, json={"priority": "high", "team_id": team.json["id"]}, headers=account.headers
    )
    assert patched.status_code == 200
    assert (patched.json["priority"], patched.json["team_id"]) == ("high", team.json["id"])
    missing = client.patch(url, json={"team_id": str(uuid.uuid4())}, headers=account.headers)
    assert missing.status_code == 422 and "team_id" in missing.json["errors"]


class TestMessages:
    def post(self, client, member, conversation, **fields):
        body = {"direction": "outbound", "sender_type": "agent", "body": "Hello", **fields}
        return client.post(
            member.url(f"/conversations/{conversation['id']}/messages"),
            json=body,
            headers=member.headers,
        )

    def test_timestamps_follow_the_conversation(self, client, account, agent):
        conversation = open_conversation(client, account)
        url = account.url(f"/conversations/{conversation['id']}")
        assert conversation["first_reply_at"] is None and conversation["waiting_since"] is None

        inbound = self.post(
            client, agent, conversation, direction="inbound", sender_type="contact", body="Hi?"
        )
        assert inbound.status_code == 201
        assert inbound.json["delivery_status"] == "delivered"
        state = client.get(url, headers=agent.headers).json
        assert state["waiting_since"] == inbound.json["created_at"]
        assert state["last_activity_at"] == inbound.json["created_at"]

        note = self.post(client, agent, conversation, private=True, body="internal")
        assert note.status_code == 201 and note.json["private"] is True
        assert client.get(url, headers=agent.headers).json == state

        reply = self.post(client, agent, conversation, metadata={"k": "v"})
        assert reply.status_code == 201
        assert reply.json["sender_id"] == agent.user_id
        assert reply.json["delivery_status"] == "queued"
        assert reply.json["metadata"] == {"k": "v"}
        state = client.get(url, headers=agent.headers).json
        assert state["first_reply_at"] == reply.json["created_at"]
        assert state["waiting_since"] is None
        assert state["last_activity_at"] == reply.json["created_at"]

        self.post(client, agent, conversation, direction="inbound", sender_type="contact")
        second = self.post(client, account, conversation)
        state = client.get(url, headers=agent.headers).json
        assert state["first_reply_at"] == reply.json["created_at"]  # set once
        assert state["last_activity_at"] == second.json["created_at"]

        failed = self.post(client, agent, conversation, delivery_status="failed")
        assert failed.status_code == 422 and "failure_reason" in failed.json["errors"]
        failed = self.post(
            client, agent, conversation, delivery_status="failed", failure_reason="bounced"
        )
        assert (failed.json["delivery_status"], failed.json["failure_reason"]) == (
            "failed",
            "bounced",
        )

    def test_cursor_pagination(self, client, account):
        conversation = open_conversation(client, account)
        ids = [self.post(client, account, conversation, body=f"m{i}").json["id"] for i in range(7)]
        url = account.url(f"/conversations/{conversation['id']}/messages")

        def page(**query):
            response = client.get(url, query_string=query, headers=account.headers)
            assert response.status_code == 200, response.json
            return [m["id"] for m in response.json["items"]], response.json["has_more"]

        assert page(limit=3) == (ids[4:], True)
        assert page(limit=3, before=ids[4]) == (ids[1:4], True)
        assert page(limit=3, before=ids[1]) == (ids[:1], False)
        assert page(limit=3, after=ids[1]) == (ids[2:5], True)
        assert page(limit=3, after=ids[4]) == (ids[5:], False)
        assert page() == (ids, False)
        too_many = client.get(url, query_string={"limit": 101}, headers=account.headers)
        assert too_many.status_code == 422
        foreign = open_conversation(client, account)
        other_id = self.post(client, account, foreign).json["id"]
        bad = client.get(url, query_string={"before": other_id}, headers=account.headers)
        assert bad.status_code == 422 and "before" in bad.json["errors"]


def test_every_change_emits_its_event_and_failures_emit_none(app, client, account, agent):
    conversation = open_conversation(client, account)
    (created,) = events(app, account, "conversation.created")
    assert created.subject_id == uuid.UUID(conversation["id"])
    assert created.actor_id == uuid.UUID(account.user_id)
    assert created.payload["status"] == [None, "open"]
    base = f"/conversations/{conversation['id']}"

    client.post(
        account.url(base + "/assign"), json={"assignee_id": agent.user_id}, headers=account.headers
    )
    (assigned,) = events(app, account, "conversation.assigned")
    assert assigned.payload == {"assignee_id": [None, agent.user_id]}
    (auto,) = events(app, account, "conversation.status_changed")
    assert auto.payload == {"status": ["open", "assigned"]}

    set_status(client, agent, conversation, "pending")
    changed = events(app, account, "conversation.status_changed")
    assert changed[-1].payload == {"status": ["assigned", "pending"]}
    assert changed[-1].actor_id == uuid.UUID(agent.user_id)

    client.patch(account.url(base), json={"priority": "urgent"}, headers=account.headers)
    (updated,) = events(app, account, "conversation.updated")
    assert updated.payload == {"priority": ["none", "urgent"]}

    message = client.post(
        account.url(base + "/messages"),
        json={"direction": "outbound", "sender_type": "agent", "body": "On it"},
        headers=agent.headers,
    ).json
    (posted,) = events(app, account, "message.created")
    assert posted.subject_id == uuid.UUID(message["id"])
    assert posted.payload["conversation_id"] == conversation["id"]

    before = count_events(app, account)
    assert set_status(client, agent, conversation, "closed").status_code == 409
    assert set_status(client, agent, conversation, "assigned", x=1).status_code == 422
    assert (
        client.post(
            account.url(base + "/assign"),
            json={"assignee_id": str(uuid.uuid4())},
            headers=account.headers,
        ).status_code
        == 422
    )
    unchanged = client.patch(
        account.url(base), json={"priority": "urgent"}, headers=account.headers
    )
    assert unchanged.status_code == 200
    assert count_events(app, account) == before


class TestIsolation:
    @pytest.fixture
    def theirs(self, client, other_account):
        return open_conversation(client, other_account)

    @pytest.mark.parametrize("who", ["account", "agent"])
    def test_foreign_conversation_is_indistinguishable_from_a_missing_one(
        self, request, app, client, theirs, other_account, who
    ):
        me = request.getfixturevalue(who)
        before = count_events(app, other_account)
        calls = [
            ("get", "", None),
            ("patch", "", {"subject": "x"}),
            ("post", "/status", {"status": "pending"}),
            ("post", "/assign", {"assignee_id": None}),
            ("get", "/messages", None),
            ("post", "/messages", {"direction": "inbound", "sender_type": "contact", "body": "x"}),
        ]
        for method, suffix, body in calls:
            answers = []
            for cid in (theirs["id"], uuid.uuid4()):
                kwargs = {"json": body} if body is not None else {}
                response = getattr(client, method)(
                    me.url(f"/conversations/{cid}{suffix}"), headers=me.headers, **kwargs
                )
                answers.append(
                    (
                        response.status_code,
                        {k: v for k, v in response.json.items() if k != "request_id"},
                    )
                )
            assert answers[0] == answers[1]
            assert answers[0][0] == 404, (method, suffix)
        assert count_events(app, other_account) == before
        listed = client.get(me.url("/conversations"), headers=me.headers).json
        assert listed["meta"]["total"] == 0
        theirs_now = client.get(
            other_account.url(f"/conversations/{theirs['id']}"), headers=other_account.headers
        ).json
        assert theirs_now == theirs

    def test_their_channel_contact_and_members_are_unknown_here(
        self, client, account, theirs, other_account
    ):
        channel_id, contact_id = setup_desk(client, account)
        for field, value in (
            ("channel_id", theirs["channel_id"]),
            ("contact_id", theirs["contact_id"]),
            ("assignee_id", other_account.user_id),
        ):
            body = {"channel_id": channel_id, "contact_id": contact_id, field: value}
            response = client.post(
                account.url("/conversations"), json=body, headers=account.headers
            )
            assert response.status_code == 422, field
            assert field in response.json["errors"]

    def test_their_members_cannot_reach_our_account(self, client, account, other_account):
        mine = open_conversation(client, account)
        response = client.get(
            f"/v1/accounts/{account.account_id}/conversations/{mine['id']}",
            headers=other_account.headers,
        )
        assert response.status_code == 404 and response.json["code"] == "account_not_found"


def test_agents_need_assign_permission_only_for_assignment_and_custom_roles_read_nothing(
    client, account, add_member
):
    role = client.post(
        account.url("/roles"),
        json={"name": "Reader", "permissions": ["contacts:read"]},
        headers=account.headers,
    ).json
    reader = add_member(account.account_id, "reader", custom_role_id=role["id"])
    conversation = open_conversation(client, account)
    for method, suffix, body in (
        ("get", "", None),
        ("post", "/assign", {"assignee_id": None}),
        ("post", "/status", {"status": "pending"}),
    ):
        kwargs = {"json": body} if body is not None else {}
        response = getattr(client, method)(
            reader.url(f"/conversations/{conversation['id']}{suffix}"),
            headers=reader.headers,
            **kwargs,
        )
        assert response.status_code == 403
        assert response.json["code"] == "permission_denied"


def test_a_muted_conversation_stays_as_it_is_when_the_contact_writes(
    app, client, account, other_account
):
    muted, plain = open_conversation(client, account), open_conversation(client, account)
    answer = client.patch(
        account.url(f"/conversations/{muted['id']}"), json={"muted": True}, headers=account.headers
    )
    assert answer.status_code == 200 and answer.json["muted"] is True
    assert plain["muted"] is False
    (event,) = [e for e in events(app, account, "conversation.updated")]
    assert event.payload == {"muted": [False, True]} and event.subject_id == uuid.UUID(muted["id"])
    for conversation in (muted, plain):
        assert set_status(client, account, conversation, "resolved").status_code == 200
        posted = client.post(
            account.url(f"/conversations/{conversation['id']}/messages"),
            json={"direction": "inbound", "sender_type": "contact", "body": "Me again"},
            headers=account.headers,
        )
        assert posted.status_code == 201
    read = {
        c["id"]: client.get(account.url(f"/conversations/{c['id']}"), headers=account.headers).json
        for c in (muted, plain)
    }
    assert read[muted["id"]]["status"] == "resolved"  # the message is kept, nothing reopens
    assert read[plain["id"]]["status"] == "open"
    thread = client.get(
        account.url(f"/conversations/{muted['id']}/messages"), headers=account.headers
    ).json["items"]
    assert [m["body"] for m in thread] == ["Me again"]
    # Unmuted, the next message reopens it again; another account cannot mute it at all.
    elsewhere = client.patch(
        other_account.url(f"/conversations/{muted['id']}"),
        json={"muted": False},
        headers=other_account.headers,
    )
    assert elsewhere.status_code == 404
    client.patch(
        account.url(f"/conversations/{muted['id']}"), json={"muted": False}, headers=account.headers
    )
    client.post(
        account.url(f"/conversations/{muted['id']}/messages"),
        json={"direction": "inbound", "sender_type": "contact", "body": "Hello?"},
        headers=account.headers,
    )
    reopened = client.get(account.url(f"/conversations/{muted['id']}"), headers=account.headers)
    assert reopened.json["status"] == "open"
