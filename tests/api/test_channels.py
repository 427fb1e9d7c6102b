"""Channels: CRUD, write-only secrets, inbox members, isolation between accounts."""

from __future__ import annotations

import uuid

import pytest

from helpdesk.channels import channels_worked_by, inbox_agents
from tenants.registry import registry
from tenants.session import tenant_session


def create(client, member, **fields):
    body = {"type": "email", "name": "Support", **fields}
    return client.post(member.url("/channels"), json=body, headers=member.headers)


def test_secrets_are_write_only_and_config_merges(client, account, agent):
    made = create(
        client,
        account,
        config={"smtp_host": "mail.example.com", "smtp_password": "hunter2"},
    )
    assert made.status_code == 201, made.json
    channel = made.json
    assert channel["config"] == {"smtp_host": "mail.example.com", "smtp_password": {"set": True}}
    assert channel["enabled"] is True
    url = account.url(f"/channels/{channel['id']}")
    seen = client.get(url, headers=agent.headers)
    assert seen.status_code == 200 and "hunter2" not in seen.get_data(as_text=True)

    patched = client.patch(
        url,
        json={"config": {"smtp_host": "smtp.example.com"}, "enabled": False},
        headers=account.headers,
    )
    assert patched.status_code == 200
    assert patched.json["config"] == {
        "smtp_host": "smtp.example.com",
        "smtp_password": {"set": True},
    }
    assert patched.json["enabled"] is False
    cleared = client.patch(url, json={"config": {"smtp_password": None}}, headers=account.headers)
    assert cleared.json["config"] == {"smtp_host": "smtp.example.com"}
    listed = client.get(account.url("/channels"), headers=agent.headers).json["items"]
    assert [c["id"] for c in listed] == [channel["id"]]
    assert client.delete(url, headers=account.headers).status_code == 204
    assert client.get(url, headers=account.headers).json["code"] == "channel_not_found"


@pytest.mark.parametrize(
    "kind,secret", [("sms", "api_key"), ("webhook", "signing_secret"), ("in_app", "secret")]
)
def test_each_type_hides_its_secrets(client, account, kind, secret):
    made = create(client, account, type=kind, config={secret: "s3cr3t", "plain": 1}).json
    assert made["config"] == {secret: {"set": True}, "plain": 1}


def test_invalid_type_is_named(client, account):
    response = create(client, account, type="fax", name="")
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"type", "name"}


def test_agents_read_but_may_not_manage_channels(client, account, agent):
    channel = create(client, account).json
    url = agent.url(f"/channels/{channel['id']}")
    for method, kwargs in [
        ("post", {"json": {"type": "sms", "name": "x"}}),
        ("patch", {"json": {"name": "x"}}),
        ("delete", {}),
    ]:
        target = agent.url("/channels") if method == "post" else url
        response = getattr(client, method)(target, headers=agent.headers, **kwargs)
        assert response.status_code == 403
        assert response.json["errors"]["permission"] == ["channels:manage"]


def test_inbox_members_must_belong_to_the_account(client, account, agent, other_account):
    channel = create(client, account).json
    url = account.url(f"/channels/{channel['id']}/members")
    added = client.post(url, json={"user_id": agent.user_id}, headers=account.headers)
    assert added.status_code == 200 and added.json["user_ids"] == [agent.user_id]
    again = client.post(url, json={"user_id": agent.user_id}, headers=account.headers)
    assert again.json["user_ids"] == [agent.user_id]
    stranger = client.post(url, json={"user_id": other_account.user_id}, headers=account.headers)
    assert stranger.status_code == 422 and "user_id" in stranger.json["errors"]
    assert client.get(url, headers=agent.headers).json["user_ids"] == [agent.user_id]
    assert client.delete(f"{url}/{agent.user_id}", headers=account.headers).status_code == 204
    gone = client.delete(f"{url}/{agent.user_id}", headers=account.headers)
    assert gone.status_code == 404
    assert client.get(url, headers=agent.headers).json["user_ids"] == []


def test_a_channel_with_conversations_cannot_be_deleted(client, account):
    channel = create(client, account).json
    contact = client.post(
        account.url("/contacts"), json={"name": "Ada"}, headers=account.headers
    ).json
    client.post(
        account.url("/conversations"),
        json={"channel_id": channel["id"], "contact_id": contact["id"]},
        headers=account.headers,
    )
    refused = client.delete(account.url(f"/channels/{channel['id']}"), headers=account.headers)
    assert refused.status_code == 409 and refused.json["code"] == "channel_in_use"


@pytest.mark.parametrize("who", ["account", "agent"])
def test_foreign_channels_are_indistinguishable_from_missing_ones(
    request, client, other_account, who
):
    me = request.getfixturevalue(who)
    theirs = create(client, other_account, config={"smtp_password": "x"}).json
    for path in ("", "/members", "/teams"):
        answers = [
            client.get(me.url(f"/channels/{cid}{path}"), headers=me.headers)
            for cid in (theirs["id"], uuid.uuid4())
        ]
        assert answers[0].status_code == answers[1].status_code == 404
        assert answers[0].json["code"] == answers[1].json["code"] == "channel_not_found"
    owner_patch = client.patch(
        me.url(f"/channels/{theirs['id']}"), json={"name": "pwned"}, headers=me.headers
    )
    assert owner_patch.status_code == (404 if who == "account" else 403)
    assert client.get(me.url("/channels"), headers=me.headers).json["items"] == []
    still = client.get(
        other_account.url(f"/channels/{theirs['id']}"), headers=other_account.headers
    )
    assert still.json["name"] == "Support"


def test_teams_attached_to_an_inbox_bring_their_members(app, client, account, agent, add_member):
    second = add_member(account.account_id, "agent")
    channel = create(client, account).json
    team = client.post(account.url("/teams"), json={"name": "Tier 1"}, headers=account.headers)
    team_id = team.json["id"]
    client.post(
        account.url(f"/teams/{team_id}/members"),
        json={"user_id": second.user_id},
        headers=account.headers,
    )
    base = account.url(f"/channels/{channel['id']}")
    client.post(base + "/members", json={"user_id": agent.user_id}, headers=account.headers)
    attached = client.post(base + "/teams", json={"team_id": team_id}, headers=account.headers)
    assert attached.status_code == 200 and attached.json["team_ids"] == [team_id]
    again = client.post(base + "/teams", json={"team_id": team_id}, headers=account.headers)
    assert again.json["team_ids"] == [team_id]
    assert client.get(base + "/teams", headers=agent.headers).json["team_ids"] == [team_id]

    with app.app_context(), tenant_session(registry().get(uuid.UUID(account.account_id))) as s:
        working = inbox_agents(s, uuid.UUID(channel["id"]))
        assert working == [uuid.UUID(agent.user_id), uuid.UUID(second.user_id)]  # join order
        worked = s.scalars(channels_worked_by(uuid.UUID(second.user_id))).all()
        assert [str(c) for c in worked] == [channel["id"]]

    assert client.delete(f"{base}/teams/{team_id}", headers=account.headers).status_code == 204
    gone = client.delete(f"{base}/teams/{team_id}", headers=account.headers)
    assert gone.status_code == 404 and gone.json["code"] == "inbox_team_not_found"
    with app.app_context(), tenant_session(registry().get(uuid.UUID(account.account_id))) as s:
        assert inbox_agents(s, uuid.UUID(channel["id"])) == [uuid.UUID(agent.user_id)]


def test_only_managers_attach_teams_and_only_their_accounts_teams(
    client, account, agent, other_account
):
    channel = create(client, account).json
    url = account.url(f"/channels/{channel['id']}/teams")
    theirs = client.post(
        other_account.url("/teams"), json={"name": "Theirs"}, headers=other_account.headers
    ).json
    ours = client.post(account.url("/teams"), json={"name": "Ours"}, headers=account.headers).json
    denied = client.post(url, json={"team_id": ours["id"]}, headers=agent.headers)
    assert denied.status_code == 403
    foreign = client.post(url, json={"team_id": theirs["id"]}, headers=account.headers)
    assert foreign.status_code == 422 and foreign.json["errors"]["team_id"] == ["no such team"]
    assert client.get(url, headers=account.headers).json["team_ids"] == []
