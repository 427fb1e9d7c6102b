"""Per-agent read marks, exact unread counts in the inbox, and the all tab by permission."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event

from helpdesk.inbox import list_inbox
from tenants.db import db
from tenants.models import Account
from tenants.scope import activated

from .test_conversations import events, setup_desk
from .test_inbox import ids, inbox, make, staffed_desk


def post_message(client, member, conversation_id, **body):
    response = client.post(
        member.url(f"/conversations/{conversation_id}/messages"), json=body, headers=member.headers
    )
    assert response.status_code == 201, response.json
    return response.json


def inbound(client, member, conversation_id, body="Hello?"):
    return post_message(
        client, member, conversation_id, direction="inbound", sender_type="contact", body=body
    )


def reply(client, member, conversation_id, body="On it", **extra):
    return post_message(
        client,
        member,
        conversation_id,
        direction="outbound",
        sender_type="agent",
        body=body,
        **extra,
    )


def mark_read(client, member, conversation_id, **body):
    return client.post(
        member.url(f"/conversations/{conversation_id}/read"), json=body, headers=member.headers
    )


def unread(client, member, **params):
    """``{conversation id: unread count}`` over what ``member`` sees in the inbox."""
    page = inbox(client, member, per_page=100, **params)
    return {item["id"]: item["unread_count"] for item in page["items"]}


def test_unread_counts_are_exact_per_agent(client, account, add_member):
    ada, bob = add_member(account.account_id), add_member(account.account_id)
    channel_id, contact_id = staffed_desk(client, account, ada, bob)
    talk = make(client, account, channel_id, contact_id, assignee_id=ada.user_id)
    quiet = make(client, account, channel_id, contact_id)
    first, second, _ = (inbound(client, account, talk, f"#{n}") for n in range(3))
    for member in (account, ada, bob):
        assert unread(client, member) == {talk: 3, quiet: 0}

    # Her own reply and note are never unread to Ada; they are to everyone else.
    reply(client, ada, talk)
    note = reply(client, ada, talk, "Bob, can you check?", private=True)
    assert unread(client, ada) == {talk: 3, quiet: 0}
    assert unread(client, bob)[talk] == unread(client, account)[talk] == 5

    done = mark_read(client, ada, talk)
    assert done.status_code == 200, done.json
    assert done.json == {
        "conversation_id": talk,
        "user_id": ada.user_id,
        "last_read_at": note["created_at"],
        "unread_count": 0,
    }
    assert unread(client, ada)[talk] == 0
    assert unread(client, bob)[talk] == 5

    inbound(client, account, talk, "Anyone there?")
    assert unread(client, ada)[talk] == 1
    assert unread(client, bob)[talk] == 6

    # Bob has read up to the second message: the third, Ada's two and the newest remain.
    partly = mark_read(client, bob, talk, up_to_message_id=second["id"])
    assert (partly.json["last_read_at"], partly.json["unread_count"]) == (
        second["created_at"],
        4,
    )
    # A stale client marking an older message never makes anything unread again.
    stale = mark_read(client, bob, talk, up_to_message_id=first["id"])
    assert (stale.json["last_read_at"], stale.json["unread_count"]) == (second["created_at"], 4)
    reply(client, bob, talk, "Looking", private=True)
    assert unread(client, bob)[talk] == 4
    assert unread(client, ada)[talk] == 2


def test_unread_counts_are_not_capped(client, account, agent):
    channel_id, contact_id = staffed_desk(client, account, agent)
    talk = make(client, account, channel_id, contact_id)
    for n in range(130):
        inbound(client, account, talk, f"line {n}")
    assert unread(client, agent) == {talk: 130}
    assert mark_read(client, agent, talk).json["unread_count"] == 0


def test_counts_carry_conversations_with_unread_messages_per_tab(client, account, agent):
    channel_id, contact_id = staffed_desk(client, account, agent)
    mine = make(client, account, channel_id, contact_id, assignee_id=agent.user_id)
    queued = make(client, account, channel_id, contact_id)
    make(client, account, channel_id, contact_id)  # nothing in it: never unread
    for conversation_id in (mine, mine, queued):
        inbound(client, account, conversation_id)

    counts = inbox(client, agent)["counts"]
    assert counts["unread"] == {"mine": 1, "unassigned": 1, "all": 2, "mentions": 0}
    assert (counts["mine"], counts["unassigned"], counts["all"]) == (1, 2, 3)

    mark_read(client, agent, mine)
    assert inbox(client, agent)["counts"]["unread"] == {
        "mine": 0,
        "unassigned": 1,
        "all": 1,
        "mentions": 0,
    }
    # The owner's marks are theirs alone.
    assert inbox(client, account)["counts"]["unread"]["all"] == 2
    # Filters narrow the unread totals like every other count.
    assert inbox(client, agent, priority="urgent")["counts"]["unread"]["all"] == 0


def test_marking_read_announces_each_move_once(app, client, account, agent):
    channel_id, contact_id = staffed_desk(client, account, agent)
    talk = make(client, account, channel_id, contact_id)
    message = inbound(client, account, talk)

    assert mark_read(client, agent, talk).status_code == 200
    (announced,) = events(app, account, "conversation.read")
    assert announced.subject_id == uuid.UUID(talk)
    assert announced.actor_id == uuid.UUID(agent.user_id)
    assert announced.payload["user_id"] == agent.user_id
    before, after = announced.payload["last_read_at"]
    assert before is None
    assert after == message["created_at"]

    assert mark_read(client, agent, talk).status_code == 200  # nothing new: no event
    assert len(events(app, account, "conversation.read")) == 1
    inbound(client, account, talk)
    mark_read(client, agent, talk)
    moved = events(app, account, "conversation.read")
    assert len(moved) == 2
    assert moved[-1].payload["last_read_at"][0] == after


def test_read_refuses_messages_of_other_conversations(client, account):
    channel_id, contact_id = setup_desk(client, account)
    talk = make(client, account, channel_id, contact_id)
    elsewhere = make(client, account, channel_id, contact_id)
    stray = inbound(client, account, elsewhere)

    empty = mark_read(client, account, talk)
    assert empty.status_code == 200
    assert (empty.json["last_read_at"], empty.json["unread_count"]) == (None, 0)
    for message_id in (stray["id"], str(uuid.uuid4())):
        refused = mark_read(client, account, talk, up_to_message_id=message_id)
        assert refused.status_code == 422
        assert "up_to_message_id" in refused.json["errors"]
    assert unread(client, account)[elsewhere] == 1


def test_reads_are_per_account_and_need_conversations_read(
    client, account, agent, other_account, add_member
):
    channel_id, contact_id = staffed_desk(client, account, agent)
    talk = make(client, account, channel_id, contact_id)
    inbound(client, account, talk)

    # Another account's owner: our conversation is as unknown as a made-up one.
    answers = []
    for conversation_id in (talk, str(uuid.uuid4())):
        response = mark_read(client, other_account, conversation_id)
        answers.append((response.status_code, response.json["code"]))
    assert answers == [(404, "conversation_not_found")] * 2
    foreign = client.post(
        account.url(f"/conversations/{talk}/read"), json={}, headers=other_account.headers
    )
    assert (foreign.status_code, foreign.json["code"]) == (404, "account_not_found")
    assert inbox(client, other_account)["counts"]["unread"]["all"] == 0

    role = client.post(
        account.url("/roles"),
        json={"name": "Contacts only", "permissions": ["contacts:read"]},
        headers=account.headers,
    )
    outsider = add_member(account.account_id, "outsider", custom_role_id=role.json["id"])
    denied = mark_read(client, outsider, talk)
    assert (denied.status_code, denied.json["code"]) == (403, "permission_denied")
    assert unread(client, agent) == {talk: 1}


def test_the_page_and_counts_take_the_same_statements_however_many_conversations(
    app, client, account, agent
):
    channel_id, contact_id = staffed_desk(client, account, agent)
    with app.app_context():
        schema = db.session.get(Account, uuid.UUID(account.account_id)).schema_name
        db.session.rollback()

    def statements_for_inbox() -> tuple[list[str], dict]:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                with activated(schema):
                    result = list_inbox(db.session, user_id=uuid.UUID(agent.user_id))
                    db.session.rollback()
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
        return seen, result

    talk = make(client, account, channel_id, contact_id)
    inbound(client, account, talk)
    few, result = statements_for_inbox()
    assert [item["unread_count"] for item in result["items"]] == [1]
    for n in range(6):
        inbound(client, account, make(client, account, channel_id, contact_id), f"#{n}")
    many, result = statements_for_inbox()
    assert len(result["items"]) == 7
    assert {item["unread_count"] for item in result["items"]} == {1}
    assert result["counts"]["unread"]["all"] == 7
    assert len(many) == len(few)


class TestAllTab:
    """Without ``conversations:read_all`` the all tab is what is within the caller's reach."""

    @pytest.fixture
    def desk(self, client, account, add_member):
        ada = add_member(account.account_id)
        admin = add_member(account.account_id, "admin")
        inbox_channel, contact_id = staffed_desk(client, account, ada)
        elsewhere, _ = setup_desk(client, account)
        team = client.post(
            account.url("/teams"), json={"name": "Billing"}, headers=account.headers
        ).json
        joined = client.post(
            account.url(f"/teams/{team['id']}/members"),
            json={"user_id": ada.user_id},
            headers=account.headers,
        )
        assert joined.status_code in (200, 201), joined.json
        reach = {
            "inbox": make(client, account, inbox_channel, contact_id),
            "team": make(client, account, elsewhere, contact_id, team_id=team["id"]),
            "assigned": make(client, account, elsewhere, contact_id, assignee_id=ada.user_id),
        }
        beyond = {
            "unassigned": make(client, account, elsewhere, contact_id),
            "theirs": make(client, account, elsewhere, contact_id, assignee_id=admin.user_id),
        }
        return ada, admin, reach, beyond

    def test_agents_see_their_inboxes_teams_and_assignments(self, client, desk):
        ada, _, reach, beyond = desk
        page = inbox(client, ada)
        assert sorted(ids(page)) == sorted(reach.values())
        assert page["counts"]["all"] == page["meta"]["total"] == 3
        # The unassigned queue stays shared: it is not narrowed by reach.
        queue = inbox(client, ada, tab="unassigned")
        assert sorted(ids(queue)) == sorted([reach["inbox"], reach["team"], beyond["unassigned"]])
        assert page["counts"]["unassigned"] == 3

    def test_owners_admins_and_granted_roles_see_everything(
        self, client, account, desk, add_member
    ):
        _, admin, reach, beyond = desk
        everything = sorted([*reach.values(), *beyond.values()])
        role = client.post(
            account.url("/roles"),
            json={
                "name": "Supervisor",
                "permissions": ["conversations:read_all", "conversations:read"],
            },
            headers=account.headers,
        )
        supervisor = add_member(account.account_id, "supervisor", custom_role_id=role.json["id"])
        for member in (account, admin, supervisor):
            page = inbox(client, member)
            assert sorted(ids(page)) == everything
            assert page["counts"]["all"] == 5

    def test_a_reader_without_reach_sees_nothing_in_all(self, client, account, desk, add_member):
        role = client.post(
            account.url("/roles"),
            json={"name": "Reader", "permissions": ["conversations:read"]},
            headers=account.headers,
        )
        reader = add_member(account.account_id, "reader", custom_role_id=role.json["id"])
        page = inbox(client, reader)
        assert (ids(page), page["counts"]["all"], page["counts"]["unassigned"]) == ([], 0, 3)
