"""The agent's inbox: tabs, counts in one query, filters, sorts, isolation."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event

from helpdesk.inbox import list_inbox
from tenants.db import db
from tenants.models import Account
from tenants.scope import activated

from .test_conversations import set_status, setup_desk


def staffed_desk(client, owner, *members):
    """A channel with a contact, and ``members`` attached to its inbox (so it is in their
    reach: agents see only such conversations in the ``all`` tab)."""
    channel_id, contact_id = setup_desk(client, owner)
    for member in members:
        response = client.post(
            owner.url(f"/channels/{channel_id}/members"),
            json={"user_id": member.user_id},
            headers=owner.headers,
        )
        assert response.status_code == 200, response.json
    return channel_id, contact_id


def tab_counts(page):
    """The counts of the assignment tabs (mentions and unread have their own tests)."""
    return {tab: page["counts"][tab] for tab in ("mine", "unassigned", "all")}


def make(client, member, channel_id, contact_id, **fields):
    body = {"channel_id": channel_id, "contact_id": contact_id, **fields}
    response = client.post(member.url("/conversations"), json=body, headers=member.headers)
    assert response.status_code == 201, response.json
    return response.json["id"]


def inbox(client, member, **params):
    response = client.get(member.url("/inbox"), query_string=params, headers=member.headers)
    assert response.status_code == 200, response.json
    return response.json


def ids(page):
    return [item["id"] for item in page["items"]]


def assign(client, member, conversation_id, assignee_id):
    response = client.post(
        member.url(f"/conversations/{conversation_id}/assign"),
        json={"assignee_id": assignee_id},
        headers=member.headers,
    )
    assert response.status_code == 200, response.json


def test_tabs_and_counts_follow_assignment(client, account, agent, other_account):
    channel_id, contact_id = staffed_desk(client, account, agent)
    first = make(client, account, channel_id, contact_id, subject="One")
    second = make(client, account, channel_id, contact_id, subject="Two")
    # The other account's conversations, even assigned to its owner, are never counted.
    other_channel, other_contact = setup_desk(client, other_account)
    make(client, other_account, other_channel, other_contact, assignee_id=other_account.user_id)
    make(client, other_account, other_channel, other_contact)

    for member in (account, agent):
        page = inbox(client, member)
        assert tab_counts(page) == {"mine": 0, "unassigned": 2, "all": 2}
        assert sorted(ids(page)) == sorted([first, second])
        assert page["meta"] == {"page": 1, "per_page": 25, "total": 2, "pages": 1}

    assign(client, account, first, agent.user_id)
    assert tab_counts(inbox(client, agent)) == {"mine": 1, "unassigned": 1, "all": 2}
    assert tab_counts(inbox(client, account)) == {"mine": 0, "unassigned": 1, "all": 2}
    assert ids(inbox(client, agent, tab="mine")) == [first]
    assert ids(inbox(client, agent, tab="unassigned")) == [second]
    assert ids(inbox(client, account, tab="mine")) == []
    mine = inbox(client, agent, tab="mine")
    assert mine["meta"]["total"] == 1
    item = mine["items"][0]
    assert (item["assignee_id"], item["status"], item["contact_name"]) == (
        agent.user_id,
        "assigned",
        "Grace",
    )

    assign(client, agent, second, account.user_id)
    assert ids(inbox(client, account, tab="mine")) == [second]
    assert tab_counts(inbox(client, account)) == {"mine": 1, "unassigned": 0, "all": 2}

    assign(client, account, first, None)
    assert tab_counts(inbox(client, agent)) == {"mine": 0, "unassigned": 1, "all": 2}
    assert ids(inbox(client, agent, tab="unassigned")) == [first]

    theirs = inbox(client, other_account)
    assert tab_counts(theirs) == {"mine": 1, "unassigned": 1, "all": 2}
    assert not {first, second} & set(ids(theirs))


def test_status_filter_defaults_to_working_statuses(client, account, agent):
    channel_id, contact_id = staffed_desk(client, account, agent)
    working = make(client, account, channel_id, contact_id)
    done = make(client, account, channel_id, contact_id)
    url = account.url(f"/conversations/{done}/status")
    assert client.post(url, json={"status": "resolved"}, headers=account.headers).status_code == 200

    assert ids(inbox(client, agent)) == [working]
    resolved = inbox(client, agent, status="resolved")
    assert ids(resolved) == [done]
    assert tab_counts(resolved) == {"mine": 0, "unassigned": 1, "all": 1}
    both = inbox(client, agent, status=["open", "resolved"])
    assert sorted(ids(both)) == sorted([working, done])
    pending = set_status(client, agent, {"id": working}, "pending")
    assert pending.status_code == 200
    assert ids(inbox(client, agent, status="pending")) == [working]


def test_channel_team_and_priority_filters_apply_to_counts(client, account, agent):
    channel_a, contact_id = staffed_desk(client, account, agent)
    channel_b, _ = staffed_desk(client, account, agent)
    team = client.post(account.url("/teams"), json={"name": "Tier 2"}, headers=account.headers)
    assert team.status_code == 201, team.json
    team_id = team.json["id"]
    a_low = make(client, account, channel_a, contact_id, priority="low")
    a_high = make(client, account, channel_a, contact_id, priority="high", team_id=team_id)
    b_urgent = make(
        client, account, channel_b, contact_id, priority="urgent", assignee_id=agent.user_id
    )

    by_channel = inbox(client, agent, channel_id=channel_a)
    assert sorted(ids(by_channel)) == sorted([a_low, a_high])
    assert tab_counts(by_channel) == {"mine": 0, "unassigned": 2, "all": 2}
    by_channel_b = inbox(client, agent, channel_id=channel_b, tab="mine")
    assert ids(by_channel_b) == [b_urgent]
    assert tab_counts(by_channel_b) == {"mine": 1, "unassigned": 0, "all": 1}
    by_team = inbox(client, agent, team_id=team_id)
    assert ids(by_team) == [a_high]
    assert tab_counts(by_team) == {"mine": 0, "unassigned": 1, "all": 1}
    by_priority = inbox(client, agent, priority=["high", "urgent"])
    assert sorted(ids(by_priority)) == sorted([a_high, b_urgent])
    assert tab_counts(by_priority) == {"mine": 1, "unassigned": 1, "all": 2}
    assert inbox(client, agent, team_id=str(uuid.uuid4()))["counts"]["all"] == 0


def test_sorts_and_pages(client, account, agent):
    channel_id, contact_id = staffed_desk(client, account, agent)
    made = [
        make(client, account, channel_id, contact_id, priority=priority)
        for priority in ("low", "urgent", "none", "high")
    ]
    low, urgent, none, high = made
    # An inbound message on `none` then on `low`: both wait, `none` longer; `low` is newest.
    for conversation_id in (none, low):
        response = client.post(
            account.url(f"/conversations/{conversation_id}/messages"),
            json={"direction": "inbound", "sender_type": "contact", "body": "x" * 300},
            headers=account.headers,
        )
        assert response.status_code == 201, response.json

    assert ids(inbox(client, agent, sort="created_at")) == made
    assert ids(inbox(client, agent, sort="-priority")) == [urgent, high, low, none]
    assert ids(inbox(client, agent, sort="waiting_since"))[:2] == [none, low]
    newest = inbox(client, agent)
    assert ids(newest)[:2] == [low, none]
    assert newest["items"][0]["last_message_preview"] == "x" * 140
    assert newest["items"][-1]["last_message_preview"] is None

    first = inbox(client, agent, sort="created_at", per_page=3)
    second = inbox(client, agent, sort="created_at", per_page=3, page=2)
    assert ids(first) + ids(second) == made
    assert second["meta"] == {"page": 2, "per_page": 3, "total": 4, "pages": 2}


@pytest.mark.parametrize(
    "params,field",
    [
        ({"tab": "everything"}, "tab"),
        ({"sort": "subject"}, "sort"),
        ({"status": "archived"}, "status"),
        ({"priority": "critical"}, "priority"),
        ({"per_page": "500"}, "per_page"),
    ],
)
def test_invalid_arguments_answer_the_error_envelope(client, agent, params, field):
    response = client.get(agent.url("/inbox"), query_string=params, headers=agent.headers)
    assert response.status_code == 422
    assert response.json["code"] == "validation_failed"
    assert field in response.json["errors"]
    assert response.json["request_id"]


def test_another_account_is_not_found(client, account, other_account):
    response = client.get(other_account.url("/inbox"), headers=account.headers)
    assert response.status_code == 404
    assert response.json["code"] == "account_not_found"


def test_counts_are_one_query(app, client, account, agent):
    channel_id, contact_id = setup_desk(client, account)
    make(client, account, channel_id, contact_id, assignee_id=agent.user_id)
    statements = []
    with app.app_context():
        schema = db.session.get(Account, uuid.UUID(account.account_id)).schema_name
        db.session.rollback()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            with activated(schema):
                result = list_inbox(db.session, user_id=uuid.UUID(agent.user_id), tab="mine")
                db.session.rollback()
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert tab_counts(result) == {"mine": 1, "unassigned": 0, "all": 1}
    counting = [s for s in statements if "count(*) FILTER" in s]
    assert len(counting) == 1
    # The page carries unread counts too: one grouped subquery, the only other count.
    assert len([s for s in statements if "count(" in s]) == 2
