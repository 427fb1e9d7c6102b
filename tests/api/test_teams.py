"""Teams: CRUD, members of the account only, isolation between accounts."""

from __future__ import annotations

import uuid

import pytest


def create(client, member, name="Tier 1", **fields):
    return client.post(member.url("/teams"), json={"name": name, **fields}, headers=member.headers)


def test_owner_manages_teams_and_members(client, account, agent, other_account):
    made = create(client, account, description="First line")
    assert made.status_code == 201 and made.json["member_ids"] == []
    url = account.url(f"/teams/{made.json['id']}")
    added = client.post(f"{url}/members", json={"user_id": agent.user_id}, headers=account.headers)
    assert added.status_code == 200 and added.json["member_ids"] == [agent.user_id]
    stranger = client.post(
        f"{url}/members", json={"user_id": other_account.user_id}, headers=account.headers
    )
    assert stranger.status_code == 422
    assert client.get(url, headers=agent.headers).json["member_ids"] == [agent.user_id]
    renamed = client.patch(url, json={"name": "Tier 2"}, headers=account.headers)
    assert renamed.status_code == 200 and renamed.json["name"] == "Tier 2"
    removed = client.delete(f"{url}/members/{agent.user_id}", headers=account.headers)
    assert removed.status_code == 204
    again = client.delete(f"{url}/members/{agent.user_id}", headers=account.headers)
    assert again.status_code == 404
    assert client.delete(url, headers=account.headers).status_code == 204
    assert client.get(url, headers=account.headers).json["code"] == "team_not_found"


def test_team_names_are_unique_per_account(client, account, other_account):
    assert create(client, account).status_code == 201
    clash = create(client, account)
    assert clash.status_code == 409 and clash.json["code"] == "team_name_taken"
    second = create(client, account, name="Other").json
    rename = client.patch(
        account.url(f"/teams/{second['id']}"), json={"name": "Tier 1"}, headers=account.headers
    )
    assert rename.status_code == 409
    assert create(client, other_account).status_code == 201


def test_agents_read_but_may_not_manage_teams(client, account, agent):
    team = create(client, account).json
    assert (
        client.get(agent.url("/teams"), headers=agent.headers).json["items"][0]["id"] == team["id"]
    )
    refused = create(client, agent, name="Mine")
    assert refused.status_code == 403
    assert refused.json["errors"]["permission"] == ["teams:manage"]
    joined = client.post(
        agent.url(f"/teams/{team['id']}/members"),
        json={"user_id": agent.user_id},
        headers=agent.headers,
    )
    assert joined.status_code == 403


@pytest.mark.parametrize("who", ["account", "agent"])
def test_foreign_teams_are_indistinguishable_from_missing_ones(request, client, other_account, who):
    me = request.getfixturevalue(who)
    theirs = create(client, other_account).json
    answers = [
        client.get(me.url(f"/teams/{tid}"), headers=me.headers)
        for tid in (theirs["id"], uuid.uuid4())
    ]
    assert answers[0].status_code == answers[1].status_code == 404
    assert answers[0].json["code"] == answers[1].json["code"] == "team_not_found"
    assert client.get(me.url("/teams"), headers=me.headers).json["items"] == []
    # Their team name is free here.
    if who == "account":
        assert create(client, me).status_code == 201
