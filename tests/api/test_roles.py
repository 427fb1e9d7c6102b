"""Custom roles: lifecycle, bounds, effect on members, isolation between accounts."""

from __future__ import annotations

import uuid

import pytest

READER = {"name": "Reader", "description": "Reads contacts", "permissions": ["contacts:read"]}


def create_role(client, owner, body=READER):
    response = client.post(owner.url("/roles"), json=body, headers=owner.headers)
    assert response.status_code == 201, response.json
    return response.json


def test_the_permission_catalogue_is_listed(client, account):
    response = client.get("/v1/permissions", headers=account.headers)
    assert response.status_code == 200
    items = {p["name"]: p for p in response.json["items"]}
    assert items["contacts:read"]["custom_roles"] is True
    assert items["owners:manage"]["custom_roles"] is False
    assert items["account:delete"]["custom_roles"] is False
    assert client.get("/v1/permissions").status_code == 401


def test_built_in_roles_are_listed_read_only_with_custom_ones(client, account, agent):
    create_role(client, account)
    response = client.get(account.url("/roles"), headers=agent.headers)
    assert response.status_code == 200
    items = response.json["items"]
    assert [r["id"] for r in items[:3]] == ["owner", "admin", "agent"]
    assert all(r["built_in"] for r in items[:3])
    assert "owners:manage" not in items[1]["permissions"]
    assert items[3]["name"] == "Reader" and items[3]["built_in"] is False
    # Built-in roles are not resources one can change.
    assert (
        client.patch(account.url("/roles/owner"), json={}, headers=account.headers).status_code
        == 404
    )


def test_custom_role_lifecycle_and_its_member_feels_every_change(client, account, add_member):
    role = create_role(client, account)
    assert role["permissions"] == ["contacts:read"]
    member = add_member(account.account_id, "reader", custom_role_id=role["id"])

    assert client.get(account.url("/contacts"), headers=member.headers).status_code == 200
    denied = client.post(account.url("/contacts"), json={"name": "X"}, headers=member.headers)
    assert denied.status_code == 403
    assert denied.json["errors"]["permission"] == ["contacts:write"]

    context = client.get("/v1/me/context", headers=member.headers).json["accounts"][0]
    assert context["role"] == "agent"
    assert context["custom_role"] == {"id": role["id"], "name": "Reader"}
    assert context["permissions"] == ["contacts:read"]

    changed = client.patch(
        account.url(f"/roles/{role['id']}"),
        json={"permissions": ["contacts:read", "contacts:write"], "name": "Writer"},
        headers=account.headers,
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["name"] == "Writer"
    made = client.post(account.url("/contacts"), json={"name": "X"}, headers=member.headers)
    assert made.status_code == 201

    in_use = client.delete(account.url(f"/roles/{role['id']}"), headers=account.headers)
    assert in_use.status_code == 409
    assert in_use.json["code"] == "role_in_use"

    back = client.patch(
        account.url(f"/members/{member.user_id}"), json={"role": "agent"}, headers=account.headers
    )
    assert back.status_code == 200
    assert back.json["custom_role"] is None
    gone = client.delete(account.url(f"/roles/{role['id']}"), headers=account.headers)
    assert gone.status_code == 204
    assert (
        client.delete(account.url(f"/roles/{role['id']}"), headers=account.headers).status_code
        == 404
    )

    log = client.get(
        account.url("/audit-log"),
        query_string={"filter": "target_type:eq:role"},
        headers=account.headers,
    ).json["items"]
    assert {e["action"] for e in log} == {"role.created", "role.updated", "role.deleted"}
    updated = next(e for e in log if e["action"] == "role.updated")
    assert updated["before"]["name"] == "Reader" and updated["after"]["name"] == "Writer"


@pytest.mark.parametrize(
    ("permissions", "message"),
    [
        (["contacts:read", "owners:manage"], "owners:manage"),
        (["account:delete"], "account:delete"),
        (["contacts:fly"], "contacts:fly"),
    ],
)
def test_custom_roles_are_bounded(client, account, permissions, message):
    response = client.post(
        account.url("/roles"),
        json={"name": "Bad", "permissions": permissions},
        headers=account.headers,
    )
    assert response.status_code == 422
    assert message in response.json["errors"]["permissions"][0]


def test_role_names_are_unique_per_account_only(client, account, other_account):
    create_role(client, account)
    again = client.post(account.url("/roles"), json=READER, headers=account.headers)
    assert again.status_code == 409
    assert again.json["code"] == "role_name_taken"
    create_role(client, other_account)  # the same name elsewhere is fine


def test_nobody_grants_more_than_they_hold(client, account, add_member):
    manager = create_role(
        client,
        account,
        {"name": "Role manager", "permissions": ["roles:manage", "members:read", "contacts:read"]},
    )
    member = add_member(account.account_id, "manager", custom_role_id=manager["id"])
    wider = client.post(
        member.url("/roles"),
        json={"name": "Wider", "permissions": ["contacts:read", "contacts:delete"]},
        headers=member.headers,
    )
    assert wider.status_code == 403
    assert wider.json["errors"]["permission"] == ["contacts:delete"]
    narrower = client.post(
        member.url("/roles"),
        json={"name": "Narrow", "permissions": ["contacts:read"]},
        headers=member.headers,
    )
    assert narrower.status_code == 201
    # It cannot widen its own role either.
    widen = client.patch(
        member.url(f"/roles/{manager['id']}"),
        json={"permissions": ["roles:manage", "members:read", "contacts:read", "audit:read"]},
        headers=member.headers,
    )
    assert widen.status_code == 403
    assert widen.json["errors"]["permission"] == ["audit:read"]


def test_agents_cannot_manage_roles(client, account, agent):
    response = client.post(account.url("/roles"), json=READER, headers=agent.headers)
    assert response.status_code == 403
    assert response.json["code"] == "permission_denied"
    assert response.json["errors"]["permission"] == ["roles:manage"]


def test_roles_do_not_cross_accounts(client, account, other_account, add_member):
    role = create_role(client, account)
    # Another account's role is no role at all, whatever the caller may do there.
    url = other_account.url(f"/roles/{role['id']}")
    for response in (
        client.patch(url, json={"name": "Mine"}, headers=other_account.headers),
        client.delete(url, headers=other_account.headers),
    ):
        assert response.status_code == 404
        assert response.json["code"] == "role_not_found"
    other_member = add_member(other_account.account_id, "agent")
    assign = client.patch(
        other_account.url(f"/members/{other_member.user_id}"),
        json={"role_id": role["id"]},
        headers=other_account.headers,
    )
    assert assign.status_code == 422
    listed = client.get(other_account.url("/roles"), headers=other_account.headers).json["items"]
    assert [r["name"] for r in listed if not r["built_in"]] == []
    # And account A's URLs are invisible to B's owner.
    response = client.get(account.url("/roles"), headers=other_account.headers)
    assert response.status_code == 404
    assert response.json["code"] == "account_not_found"
    assert (
        client.delete(
            account.url(f"/roles/{uuid.uuid4()}"), headers=other_account.headers
        ).status_code
        == 404
    )
