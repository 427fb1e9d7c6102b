"""Automatic assignment: channel policies, agent availability and capacity, and the
consumers that assign waiting conversations (driven through the real relay and RQ)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from events.outbox import OutboxEvent
from tenants.db import db
from tenants.models import Membership, Role

FUTURE = (datetime.now(UTC) + timedelta(days=3)).isoformat()


@pytest.fixture
def trio(account, add_member):
    return [add_member(account.account_id, "agent") for _ in range(3)]


def desk(client, owner, agents, **policy):
    """A channel with ``agents`` attached to its inbox and, given ``mode``, a policy."""
    channel = client.post(
        owner.url("/channels"), json={"type": "email", "name": "Support"}, headers=owner.headers
    )
    assert channel.status_code == 201, channel.json
    channel_id = channel.json["id"]
    for agent in agents:
        attached = client.post(
            owner.url(f"/channels/{channel_id}/members"),
            json={"user_id": agent.user_id},
            headers=owner.headers,
        )
        assert attached.status_code == 200, attached.json
    if policy:
        assert put_policy(client, owner, channel_id, **policy).status_code == 200
    return channel_id


def put_policy(client, member, channel_id, **body):
    return client.put(
        member.url(f"/channels/{channel_id}/assignment-policy"), json=body, headers=member.headers
    )


def set_status(client, status, *members):
    for member in members:
        response = client.put(
            member.url("/agents/me/availability"), json={"status": status}, headers=member.headers
        )
        assert response.status_code == 200, response.json


def put_capacity(client, member, user_id, capacity):
    return client.put(
        member.url(f"/agents/{user_id}/capacity"),
        json={"capacity": capacity},
        headers=member.headers,
    )


def converse(client, owner, channel_id, **fields):
    contact = client.post(
        owner.url("/contacts"),
        json={"name": "Grace", "email": f"g{uuid.uuid4().hex[:8]}@example.com"},
        headers=owner.headers,
    )
    response = client.post(
        owner.url("/conversations"),
        json={"channel_id": channel_id, "contact_id": contact.json["id"], **fields},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def state(client, owner, conversation_id):
    found = client.get(owner.url(f"/conversations/{conversation_id}"), headers=owner.headers)
    return found.json["assignee_id"], found.json["status"]


def assignees(client, owner, conversation_ids):
    return [state(client, owner, cid)[0] for cid in conversation_ids]


def agents_by_id(client, member):
    response = client.get(member.url("/agents"), headers=member.headers)
    assert response.status_code == 200, response.json
    return {agent["user_id"]: agent for agent in response.json["items"]}


def audit(client, member, action):
    response = client.get(
        member.url("/audit-log"),
        headers=member.headers,
        query_string={"filter": f"action:eq:{action}"},
    )
    return response.json["items"]


# --- who gets the conversation ---------------------------------------------------------


def test_round_robin_takes_turns_over_the_inbox(app, client, account, trio, settle):
    channel_id = desk(client, account, trio, mode="round_robin")
    set_status(client, "online", *trio)
    conversations = [converse(client, account, channel_id) for _ in range(7)]
    settle()
    ids = [agent.user_id for agent in trio]
    assert assignees(client, account, conversations) == ids * 2 + ids[:1]
    assert {state(client, account, cid)[1] for cid in conversations} == {"assigned"}

    with app.app_context():
        assigned = db.session.scalars(
            select(OutboxEvent).where(
                OutboxEvent.account_id == uuid.UUID(account.account_id),
                OutboxEvent.name == "conversation.assigned",
                OutboxEvent.subject_id == uuid.UUID(conversations[0]),
            )
        ).one()
    assert (assigned.actor_type, assigned.actor_id) == ("system", None)
    assert assigned.payload == {"assignee_id": [None, ids[0]], "policy": "round_robin"}


def test_members_of_a_team_attached_to_the_inbox_join_the_rotation(client, account, trio, settle):
    direct, *team_members = trio
    channel_id = desk(client, account, [direct], mode="round_robin")
    team = client.post(account.url("/teams"), json={"name": "Tier 2"}, headers=account.headers)
    for member in team_members:
        client.post(
            account.url(f"/teams/{team.json['id']}/members"),
            json={"user_id": member.user_id},
            headers=account.headers,
        )
    client.post(
        account.url(f"/channels/{channel_id}/teams"),
        json={"team_id": team.json["id"]},
        headers=account.headers,
    )
    set_status(client, "online", *trio)
    conversations = [converse(client, account, channel_id) for _ in range(3)]
    settle()
    # Direct members first (they joined earlier), then the team's, who joined together.
    expected = [direct.user_id, *sorted(m.user_id for m in team_members)]
    assert assignees(client, account, conversations) == expected


def test_least_loaded_picks_the_fewest_open_and_breaks_ties_by_rotation(
    client, account, trio, settle
):
    a, b, c = trio
    channel_id = desk(client, account, trio, mode="least_loaded")
    set_status(client, "online", *trio)
    for agent in (a, a, b):
        converse(client, account, channel_id, assignee_id=agent.user_id)
    resolved = converse(client, account, channel_id, assignee_id=c.user_id)
    client.post(
        account.url(f"/conversations/{resolved}/status"),
        json={"status": "resolved"},
        headers=account.headers,
    )
    settle()  # c's resolved conversation is no load: loads are a 2, b 1, c 0
    conversations = [converse(client, account, channel_id) for _ in range(4)]
    settle()
    # c (0); b and c tie at 1, b is next after c; c (1 against 2, 2); all tie: a after c.
    expected = [c.user_id, b.user_id, c.user_id, a.user_id]
    assert assignees(client, account, conversations) == expected
    loads = {uid: agent["load"] for uid, agent in agents_by_id(client, account).items()}
    assert [loads[agent.user_id] for agent in trio] == [3, 2, 2]


def test_offline_away_and_full_agents_are_skipped_and_the_rest_waits(client, account, trio, settle):
    _, away, online = trio
    channel_id = desk(client, account, trio, mode="round_robin")
    set_status(client, "away", away)
    set_status(client, "online", online)
    assert put_capacity(client, account, online.user_id, 1).status_code == 200
    first, second = converse(client, account, channel_id), converse(client, account, channel_id)
    settle()
    assert state(client, account, first) == (online.user_id, "assigned")
    assert state(client, account, second) == (None, "open")
    seen = agents_by_id(client, account)
    assert [seen[m.user_id]["status"] for m in trio] == ["offline", "away", "online"]
    assert (seen[online.user_id]["load"], seen[online.user_id]["capacity"]) == (1, 1)

    # A person may still assign beyond capacity; only automatic assignment respects it.
    manual = client.post(
        account.url(f"/conversations/{second}/assign"),
        json={"assignee_id": online.user_id},
        headers=account.headers,
    )
    assert manual.status_code == 200 and manual.json["assignee_id"] == online.user_id
    assert agents_by_id(client, account)[online.user_id]["load"] == 2


def test_waiting_conversations_go_to_whoever_frees_up_longest_waiting_first(
    client, account, trio, settle
):
    a, b, c = trio
    channel_id = desk(client, account, [a, b], mode="round_robin", capacity=1)
    set_status(client, "online", a)
    taken = converse(client, account, channel_id)
    waiting = [converse(client, account, channel_id) for _ in range(4)]
    settle()
    assert state(client, account, taken)[0] == a.user_id
    assert assignees(client, account, waiting) == [None] * 4

    # b comes online: the longest waiting conversation is theirs.
    set_status(client, "online", b)
    settle()
    assert assignees(client, account, waiting) == [b.user_id, None, None, None]

    # a resolves theirs: the next one goes to a.
    client.post(
        account.url(f"/conversations/{taken}/status"),
        json={"status": "resolved"},
        headers=account.headers,
    )
    settle()
    assert assignees(client, account, waiting) == [b.user_id, a.user_id, None, None]

    # b's capacity is raised to 2: b takes one more.
    assert put_capacity(client, account, b.user_id, 2).status_code == 200
    settle()
    assert assignees(client, account, waiting) == [b.user_id, a.user_id, b.user_id, None]

    # a snoozes theirs: a is free again and takes the last one.
    client.post(
        account.url(f"/conversations/{waiting[1]}/status"),
        json={"status": "snoozed", "snoozed_until": FUTURE},
        headers=account.headers,
    )
    settle()
    assert assignees(client, account, waiting)[3] == a.user_id

    # Both are full again; b hands one to c (not in the inbox) and takes the newcomer.
    late = converse(client, account, channel_id)
    settle()
    assert state(client, account, late) == (None, "open")
    client.post(
        account.url(f"/conversations/{waiting[0]}/assign"),
        json={"assignee_id": c.user_id},
        headers=account.headers,
    )
    settle()
    assert state(client, account, late) == (b.user_id, "assigned")


def test_unassigned_again_is_offered_to_the_rotation(client, account, trio, settle):
    a, b, _ = trio
    channel_id = desk(client, account, [a, b], mode="round_robin")
    set_status(client, "online", a, b)
    conversation = converse(client, account, channel_id)
    settle()
    assert state(client, account, conversation) == (a.user_id, "assigned")
    client.post(
        account.url(f"/conversations/{conversation}/assign"),
        json={"assignee_id": None},
        headers=a.headers,
    )
    settle()
    assert state(client, account, conversation) == (b.user_id, "assigned")


def test_manual_and_disabled_policies_assign_nothing_until_switched_on(
    client, account, trio, settle
):
    a, b, _ = trio
    channel_id = desk(client, account, [a, b])
    set_status(client, "online", a, b)
    conversations = [converse(client, account, channel_id) for _ in range(2)]
    settle()
    assert assignees(client, account, conversations) == [None, None]
    put_policy(client, account, channel_id, mode="round_robin", enabled=False)
    settle()
    assert assignees(client, account, conversations) == [None, None]
    put_policy(client, account, channel_id, mode="round_robin")
    settle()
    assert assignees(client, account, conversations) == [a.user_id, b.user_id]


# --- the endpoints ---------------------------------------------------------------------


def test_policy_reads_manual_until_set_and_changes_are_audited(client, account, agent):
    channel_id = desk(client, account, [])
    url = account.url(f"/channels/{channel_id}/assignment-policy")
    default = client.get(url, headers=agent.headers)
    assert default.status_code == 200
    assert default.json == {
        "channel_id": channel_id,
        "mode": "manual",
        "enabled": True,
        "capacity": None,
    }
    saved = put_policy(client, account, channel_id, mode="least_loaded", capacity=5)
    assert saved.status_code == 200
    assert (saved.json["mode"], saved.json["capacity"]) == ("least_loaded", 5)
    assert client.get(url, headers=agent.headers).json == saved.json
    assert put_policy(client, account, channel_id, mode="least_loaded", capacity=5).json == (
        saved.json
    )
    (entry,) = audit(client, account, "assignment_policy.updated")
    assert (entry["target_type"], entry["target_id"]) == ("channel", channel_id)
    assert entry["before"] == {"mode": "manual", "capacity": None}
    assert entry["after"] == {"mode": "least_loaded", "capacity": 5}

    refused = put_policy(client, agent, channel_id, mode="round_robin")
    assert refused.status_code == 403
    assert refused.json["errors"]["permission"] == ["channels:manage"]
    for body, field in (
        ({"mode": "random"}, "mode"),
        ({"mode": "round_robin", "capacity": 0}, "capacity"),
        ({}, "mode"),
    ):
        invalid = put_policy(client, account, channel_id, **body)
        assert invalid.status_code == 422 and field in invalid.json["errors"]
    assert client.get(url, headers=agent.headers).json == saved.json


def test_availability_is_each_members_own_and_listed_with_load(
    client, account, agent, add_member, settle
):
    assert agents_by_id(client, agent)[agent.user_id]["status"] == "offline"
    response = client.put(
        agent.url("/agents/me/availability"), json={"status": "away"}, headers=agent.headers
    )
    assert response.status_code == 200
    assert (response.json["user_id"], response.json["status"]) == (agent.user_id, "away")
    channel_id = desk(client, account, [])
    converse(client, account, channel_id, assignee_id=agent.user_id)
    seen = agents_by_id(client, account)
    assert set(seen) == {account.user_id, agent.user_id}
    assert seen[agent.user_id]["status"] == "away"
    assert (seen[agent.user_id]["load"], seen[agent.user_id]["capacity"]) == (1, None)
    assert seen[account.user_id]["status"] == "offline"
    assert seen[agent.user_id]["email"] == agent.email

    invalid = client.put(
        agent.url("/agents/me/availability"), json={"status": "busy"}, headers=agent.headers
    )
    assert invalid.status_code == 422 and "status" in invalid.json["errors"]


def test_members_without_conversation_access_neither_list_agents_nor_set_availability(
    client, account, add_member
):
    role = client.post(
        account.url("/roles"),
        json={"name": "Bookkeeper", "permissions": ["contacts:read"]},
        headers=account.headers,
    )
    bookkeeper = add_member(account.account_id, "bookkeeper", custom_role_id=role.json["id"])
    for response in (
        client.get(bookkeeper.url("/agents"), headers=bookkeeper.headers),
        client.put(
            bookkeeper.url("/agents/me/availability"),
            json={"status": "online"},
            headers=bookkeeper.headers,
        ),
    ):
        assert response.status_code == 403
        assert response.json["errors"]["permission"] == ["conversations:read"]


def test_capacity_is_set_by_managers_for_members_only(client, account, agent, other_account):
    set_to = put_capacity(client, account, agent.user_id, 3)
    assert set_to.status_code == 200 and set_to.json["capacity"] == 3
    assert agents_by_id(client, agent)[agent.user_id]["capacity"] == 3
    (entry,) = audit(client, account, "agent.capacity_changed")
    assert (entry["target_id"], entry["before"], entry["after"]) == (
        agent.user_id,
        {"capacity": None},
        {"capacity": 3},
    )
    assert put_capacity(client, account, agent.user_id, None).json["capacity"] is None
    assert put_capacity(client, account, agent.user_id, -1).status_code == 422

    refused = put_capacity(client, agent, agent.user_id, 10)
    assert refused.status_code == 403
    assert refused.json["errors"]["permission"] == ["channels:manage"]

    answers = [
        put_capacity(client, account, user_id, 2)
        for user_id in (other_account.user_id, str(uuid.uuid4()))
    ]
    assert answers[0].status_code == answers[1].status_code == 404
    assert answers[0].json["code"] == answers[1].json["code"] == "member_not_found"


@pytest.mark.parametrize("who", ["account", "agent"])
def test_another_accounts_policies_and_agents_are_invisible(
    request, client, other_account, add_member, who
):
    theirs_agent = add_member(other_account.account_id, "agent")
    theirs = desk(client, other_account, [theirs_agent], mode="round_robin")
    me = request.getfixturevalue(who)
    answers = [
        client.get(me.url(f"/channels/{cid}/assignment-policy"), headers=me.headers)
        for cid in (theirs, uuid.uuid4())
    ]
    assert answers[0].status_code == answers[1].status_code == 404
    assert answers[0].json["code"] == answers[1].json["code"] == "channel_not_found"
    if who == "account":
        changed = put_policy(client, me, theirs, mode="manual")
        assert changed.status_code == 404 and changed.json["code"] == "channel_not_found"
    kept = client.get(
        other_account.url(f"/channels/{theirs}/assignment-policy"), headers=other_account.headers
    )
    assert kept.json["mode"] == "round_robin"
    assert theirs_agent.user_id not in agents_by_id(client, me)
    for foreign in (
        client.get(other_account.url("/agents"), headers=me.headers),
        client.put(
            other_account.url("/agents/me/availability"),
            json={"status": "online"},
            headers=me.headers,
        ),
        client.put(
            other_account.url(f"/agents/{theirs_agent.user_id}/capacity"),
            json={"capacity": 1},
            headers=me.headers,
        ),
    ):
        assert foreign.status_code == 404 and foreign.json["code"] == "account_not_found"
    assert agents_by_id(client, other_account)[theirs_agent.user_id]["capacity"] is None


def test_availability_is_per_account(app, client, account, agent, other_account, settle):
    with app.app_context():  # the agent joins a second account
        db.session.add(
            Membership(
                account_id=uuid.UUID(other_account.account_id),
                user_id=uuid.UUID(agent.user_id),
                role=Role.AGENT,
            )
        )
        db.session.commit()
    elsewhere = other_account.url("/agents/me/availability")
    there = client.put(elsewhere, json={"status": "online"}, headers=agent.headers)
    assert there.status_code == 200
    assert agents_by_id(client, other_account)[agent.user_id]["status"] == "online"
    assert agents_by_id(client, account)[agent.user_id]["status"] == "offline"

    # Online in the other account only: this account's rotation passes them over.
    channel_id = desk(client, account, [agent], mode="round_robin")
    conversation = converse(client, account, channel_id)
    settle()
    assert state(client, account, conversation) == (None, "open")


def test_whoever_joins_the_inbox_takes_its_waiting_conversations(client, account, trio, settle):
    direct, by_team, joins_team_later = trio
    set_status(client, "online", *trio)
    channel_id = desk(client, account, [], mode="round_robin")
    waiting = [converse(client, account, channel_id) for _ in range(3)]
    settle()
    assert assignees(client, account, waiting) == [None, None, None]  # nobody works it

    client.post(
        account.url(f"/channels/{channel_id}/members"),
        json={"user_id": direct.user_id},
        headers=account.headers,
    )
    put_capacity(client, account, direct.user_id, 1)
    settle()
    assert assignees(client, account, waiting) == [direct.user_id, None, None]

    team = client.post(account.url("/teams"), json={"name": "Night"}, headers=account.headers)
    team_url = account.url(f"/teams/{team.json['id']}/members")
    client.post(team_url, json={"user_id": by_team.user_id}, headers=account.headers)
    put_capacity(client, account, by_team.user_id, 1)
    client.post(
        account.url(f"/channels/{channel_id}/teams"),
        json={"team_id": team.json["id"]},
        headers=account.headers,
    )
    settle()
    assert assignees(client, account, waiting) == [direct.user_id, by_team.user_id, None]

    client.post(team_url, json={"user_id": joins_team_later.user_id}, headers=account.headers)
    settle()
    assert assignees(client, account, waiting) == [m.user_id for m in trio]
