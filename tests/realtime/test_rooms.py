"""Who hears about a conversation: everyone following the account's inbox, or, for a
connection that follows only its own, the conversations of its teams, of the channel
inboxes it works and those assigned to it; who else is viewing a conversation; and each
agent's exact unread counts, pushed to all of their tabs."""

from __future__ import annotations

import time

from tests.api.test_conversations import setup_desk
from tests.api.test_inbox import make


def team_with(client, owner, name, *members) -> str:
    team = client.post(owner.url("/teams"), json={"name": name}, headers=owner.headers)
    assert team.status_code == 201, team.json
    for member in members:
        added = client.post(
            owner.url(f"/teams/{team.json['id']}/members"),
            json={"user_id": member.user_id},
            headers=owner.headers,
        )
        assert added.status_code in (200, 201), added.json
    return team.json["id"]


def patch(client, owner, conversation_id, **fields) -> None:
    response = client.patch(
        owner.url(f"/conversations/{conversation_id}"), json=fields, headers=owner.headers
    )
    assert response.status_code == 200, response.json


def assign(client, owner, conversation_id, user_id) -> None:
    response = client.post(
        owner.url(f"/conversations/{conversation_id}/assign"),
        json={"assignee_id": user_id},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.json


def about(listener, event) -> list[str]:
    return [push["data"]["conversation"]["id"] for push in listener.named(event)]


def test_a_connection_following_its_own_hears_only_of_its_teams_and_its_assignments(
    client, settle, web, listener, account, agent, add_member
):
    tier1 = team_with(client, account, "Tier 1", agent)
    tier2 = team_with(client, account, "Tier 2")
    channel_id, contact_id = setup_desk(client, account)
    ours = make(client, account, channel_id, contact_id, team_id=tier1)
    theirs = make(client, account, channel_id, contact_id, team_id=tier2)
    everything = listener().connect(web[0].url, account)
    own = listener().connect(web[1].url, agent, scope="mine")
    settle()
    patch(client, account, ours, priority="high")
    patch(client, account, theirs, priority="high")
    settle()
    everything.wait_for("conversation.updated", count=2)
    (heard,) = own.wait_for("conversation.updated")
    assert heard["data"]["conversation"]["id"] == ours
    # Handed to another team: heard leaving, then no more.
    patch(client, account, ours, team_id=tier2)
    settle()
    (left,) = own.wait_for("team.changed")
    assert left["data"]["conversation"]["team_id"] == tier2
    patch(client, account, ours, priority="low")
    # Assigned to them: heard, though not their team's.
    assign(client, account, theirs, agent.user_id)
    settle()
    own.wait_for("assignee.changed")
    everything.wait_for("conversation.updated", count=4)
    time.sleep(0.3)
    assert about(own, "conversation.updated") == [ours, ours]  # the priority, the team
    assert about(own, "assignee.changed") == [theirs]
    # A replay holds what was for them, no more.
    first = everything.named("conversation.updated")[0]
    missed = own.call("resync", {"room": first["room"], "epoch": first["epoch"], "after": 0})
    replayed = {
        (e["event"], e["data"]["conversation"]["id"])
        for e in missed["events"]
        if "conversation" in e["data"]
    }
    assert ("conversation.updated", theirs) not in replayed
    assert ("assignee.changed", theirs) in replayed
    assert listener().refused(web[0].url, agent, scope="everything")["code"] == "invalid_scope"


def test_viewers_of_a_conversation_see_each_other_come_and_go(
    client, web, listener, account, agent, other_account
):
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    opened = {"conversation_id": conversation_id}
    owner = listener().connect(web[0].url, account)
    colleague = listener().connect(web[1].url, agent)
    stranger = listener().connect(web[1].url, other_account)
    assert owner.call("conversation.join", opened) == {"ok": True, "viewers": [account.user_id]}
    joined = colleague.call("conversation.join", opened)
    assert sorted(joined["viewers"]) == sorted([account.user_id, agent.user_id])
    owner.wait_for("conversation.viewers", count=2)
    assert stranger.call("conversation.join", opened) == {"error": "conversation_not_found"}
    assert colleague.call("conversation.leave", opened) == {"ok": True}
    assert colleague.call("conversation.leave", opened) == {"error": "not_viewing"}
    owner.wait_for("conversation.viewers", count=3)
    colleague.call("conversation.join", opened)
    colleague.close()  # a closed tab leaves what it viewed
    viewers = owner.wait_for("conversation.viewers", count=5)
    assert [v["viewers"] for v in viewers[2:]] == [
        [account.user_id],
        sorted([account.user_id, agent.user_id]),
        [account.user_id],
    ]
    assert stranger.accounts_heard() <= {other_account.account_id}


def inbound(client, owner, conversation_id, body="Hello?") -> str:
    response = client.post(
        owner.url(f"/conversations/{conversation_id}/messages"),
        json={"direction": "inbound", "sender_type": "contact", "body": body},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_unread_counts_reach_every_tab_of_the_agent_they_belong_to(
    client, settle, web, listener, account, agent, other_account
):
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    tab = listener().connect(web[0].url, agent)
    other_tab = listener().connect(web[1].url, agent)
    owner = listener().connect(web[1].url, account)
    stranger = listener().connect(web[0].url, other_account)
    settle()
    inbound(client, account, conversation_id)
    settle()
    (became_unread,) = other_tab.wait_for("unread.updated")
    assert became_unread["room"] == f"user:{account.account_id}:{agent.user_id}"
    assert became_unread["data"]["conversation_id"] == conversation_id
    assert became_unread["data"]["unread_count"] == 1
    assert became_unread["data"]["inbox"]["unread"]["unassigned"] == 1
    # Still unread: the next message adds to the count the tabs keep, with no new push.
    inbound(client, account, conversation_id, "Anyone?")
    settle()
    tab.wait_for("message.created", count=2)
    # Read in one tab: every tab of theirs hears the new counts; the owner's stay theirs.
    read = tab.call("conversation.read", {"conversation_id": conversation_id})
    assert read["ok"] is True and read["unread_count"] == 0
    settle()
    _, now_read = other_tab.wait_for("unread.updated", count=2)
    assert now_read["data"]["unread_count"] == 0
    assert now_read["data"]["inbox"]["unread"] == {
        "mine": 0,
        "unassigned": 0,
        "all": 0,
        "mentions": 0,
    }
    assert now_read["seq"] == became_unread["seq"] + 1  # the agent's own feed
    (owners,) = owner.wait_for("unread.updated")
    assert owners["data"]["unread_count"] == 1  # their first message made it unread
    time.sleep(0.3)
    assert len(owner.named("unread.updated")) == 1
    assert tab.call("conversation.read", {"conversation_id": "nope"}) == {
        "error": "invalid_conversation_id"
    }
    assert stranger.call("conversation.read", {"conversation_id": conversation_id}) == {
        "error": "conversation_not_found"
    }
    assert stranger.accounts_heard() <= {other_account.account_id}
