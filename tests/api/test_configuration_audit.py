"""Configuration changes (channels, inbox and team members, teams, replies) are audited."""

from __future__ import annotations


def log(client, member, *filters):
    response = client.get(
        member.url("/audit-log"),
        headers=member.headers,
        query_string={"filter": list(filters), "sort": "occurred_at", "per_page": 100},
    )
    assert response.status_code == 200, response.json
    return [(e["action"], e["before"], e["after"]) for e in response.json["items"]]


def test_a_channel_lifecycle_is_logged_without_its_secrets(client, account, agent, other_account):
    created = client.post(
        account.url("/channels"),
        json={"type": "sms", "name": "SMS", "config": {"from": "+15550100", "api_key": "hush"}},
        headers=account.headers,
    ).json
    url = account.url(f"/channels/{created['id']}")
    client.patch(url, json={"name": "SMS US"}, headers=account.headers)
    client.patch(url, json={"name": "SMS US"}, headers=account.headers)  # no change, no entry
    client.post(url + "/members", json={"user_id": agent.user_id}, headers=account.headers)
    client.post(url + "/members", json={"user_id": agent.user_id}, headers=account.headers)
    client.delete(url + f"/members/{agent.user_id}", headers=account.headers)
    assert client.delete(url, headers=account.headers).status_code == 204

    entries = log(client, account, "target_type:eq:channel")
    assert [action for action, _, _ in entries] == [
        "channel.created",
        "channel.updated",
        "channel.member_added",
        "channel.member_removed",
        "channel.deleted",
    ]
    _, _, after = entries[0]
    assert after["config"] == {"from": "+15550100", "api_key": {"set": True}}
    assert "hush" not in str(entries)
    assert entries[1][1:] == ({"name": "SMS"}, {"name": "SMS US"})
    assert entries[2][2] == {"user_id": agent.user_id}
    assert log(client, other_account, "target_type:eq:channel") == []


def test_teams_and_replies_are_logged_with_what_changed(client, account, agent):
    team = client.post(account.url("/teams"), json={"name": "Tier 1"}, headers=account.headers)
    team_url = account.url(f"/teams/{team.json['id']}")
    client.patch(team_url, json={"description": "First line"}, headers=account.headers)
    client.post(team_url + "/members", json={"user_id": agent.user_id}, headers=account.headers)
    client.delete(team_url, headers=account.headers)
    canned = client.post(
        account.url("/canned-responses"),
        json={"short_code": "hi", "title": "Hi", "body": "Hello!"},
        headers=account.headers,
    ).json
    client.patch(
        account.url(f"/canned-responses/{canned['id']}"),
        json={"body": "Hello there!"},
        headers=account.headers,
    )

    assert [a for a, _, _ in log(client, account, "target_type:eq:team")] == [
        "team.created",
        "team.updated",
        "team.member_added",
        "team.deleted",
    ]
    replies = log(client, account, "target_type:eq:canned_response")
    assert replies[1] == ("canned_response.updated", {"body": "Hello!"}, {"body": "Hello there!"})


def test_a_refused_change_leaves_no_entry(client, account, agent):
    refused = client.post(account.url("/teams"), json={"name": "Ops"}, headers=agent.headers)
    assert refused.status_code == 403
    client.post(account.url("/teams"), json={"name": "Ops"}, headers=account.headers)
    taken = client.post(account.url("/teams"), json={"name": "Ops"}, headers=account.headers)
    assert taken.status_code == 409
    assert [a for a, _, _ in log(client, account, "target_type:eq:team")] == ["team.created"]
