"""Members: listing, role changes (owner rules, last owner), removal and leaving, profiles."""

from __future__ import annotations

import uuid


def members(client, member):
    response = client.get(member.url("/members"), headers=member.headers)
    assert response.status_code == 200, response.json
    return {m["user_id"]: m for m in response.json["items"]}


def patch_role(client, actor, target, body):
    return client.patch(actor.url(f"/members/{target.user_id}"), json=body, headers=actor.headers)


def test_members_are_listed_with_their_roles(client, account, agent, other_account):
    listed = members(client, agent)
    assert set(listed) == {account.user_id, agent.user_id}
    assert listed[account.user_id]["role"] == "owner"
    assert listed[agent.user_id]["email"] == agent.email
    assert listed[agent.user_id]["custom_role"] is None
    assert listed[agent.user_id]["joined_at"]
    assert account.user_id not in members(client, other_account)
    filtered = client.get(
        account.url("/members"), query_string={"filter": "role:eq:agent"}, headers=account.headers
    ).json
    assert [m["user_id"] for m in filtered["items"]] == [agent.user_id]
    assert filtered["meta"]["total"] == 1


def test_admin_changes_agent_roles_but_not_owners(client, account, agent, add_member):
    admin = add_member(account.account_id, "admin")
    assert patch_role(client, admin, agent, {"role": "admin"}).json["role"] == "admin"
    assert patch_role(client, admin, agent, {"role": "agent"}).json["role"] == "agent"

    promote = patch_role(client, admin, agent, {"role": "owner"})
    assert promote.status_code == 403
    assert promote.json["errors"]["permission"] == ["owners:manage"]
    demote_owner = patch_role(client, admin, account, {"role": "agent"})
    assert demote_owner.status_code == 403
    assert demote_owner.json["errors"]["permission"] == ["owners:manage"]
    remove_owner = client.delete(account.url(f"/members/{account.user_id}"), headers=admin.headers)
    assert remove_owner.status_code == 403

    log = client.get(
        account.url("/audit-log"),
        query_string={"filter": "action:eq:member.role_changed"},
        headers=account.headers,
    ).json["items"]
    assert len(log) == 2
    assert {(e["before"]["role"], e["after"]["role"]) for e in log} == {
        ("agent", "admin"),
        ("admin", "agent"),
    }


def test_an_agent_cannot_change_roles_and_is_told_the_permission(client, account, agent):
    response = patch_role(client, agent, account, {"role": "agent"})
    assert response.status_code == 403
    assert response.json["code"] == "permission_denied"
    assert response.json["errors"]["permission"] == ["members:manage"]
    assert "members:manage" in response.json["message"]
    # Not even themselves.
    assert patch_role(client, agent, agent, {"role": "admin"}).status_code == 403


def test_the_last_owner_can_be_neither_demoted_nor_removed_nor_leave(client, account, agent):
    demote = patch_role(client, account, account, {"role": "admin"})
    assert demote.status_code == 409
    assert demote.json["code"] == "last_owner"
    leave = client.delete(account.url(f"/members/{account.user_id}"), headers=account.headers)
    assert leave.status_code == 409
    assert leave.json["code"] == "last_owner"

    assert patch_role(client, account, agent, {"role": "owner"}).json["role"] == "owner"
    # Two owners: one may step down; then the other is the last again.
    assert patch_role(client, agent, account, {"role": "admin"}).status_code == 200
    again = patch_role(client, agent, agent, {"role": "agent"})
    assert again.status_code == 409
    assert members(client, agent)[agent.user_id]["role"] == "owner"


def test_members_leave_and_managers_remove(client, account, agent, add_member):
    other = add_member(account.account_id, "agent")
    refused = client.delete(account.url(f"/members/{other.user_id}"), headers=agent.headers)
    assert refused.status_code == 403
    assert refused.json["errors"]["permission"] == ["members:manage"]

    left = client.delete(account.url(f"/members/{agent.user_id}"), headers=agent.headers)
    assert left.status_code == 204
    assert client.get(account.url("/members"), headers=agent.headers).status_code == 404

    removed = client.delete(account.url(f"/members/{other.user_id}"), headers=account.headers)
    assert removed.status_code == 204
    assert set(members(client, account)) == {account.user_id}
    missing = client.delete(account.url(f"/members/{uuid.uuid4()}"), headers=account.headers)
    assert missing.status_code == 404
    assert missing.json["code"] == "member_not_found"

    log = client.get(
        account.url("/audit-log"),
        query_string={"filter": "action:eq:member.removed"},
        headers=account.headers,
    ).json["items"]
    assert {(e["target_id"], e["before"]["left"]) for e in log} == {
        (agent.user_id, True),
        (other.user_id, False),
    }


def test_a_custom_role_with_members_manage_cannot_make_anyone_admin(
    client, account, agent, add_member
):
    role = client.post(
        account.url("/roles"),
        json={"name": "HR", "permissions": ["members:read", "members:manage"]},
        headers=account.headers,
    ).json
    hr = add_member(account.account_id, "hr", custom_role_id=role["id"])
    escalate = patch_role(client, hr, hr, {"role": "admin"})
    assert escalate.status_code == 403
    assert "settings:manage" in escalate.json["errors"]["permission"]
    # Nor act on someone holding more than they do.
    assert patch_role(client, hr, agent, {"role_id": role["id"]}).status_code == 403
    assert (
        client.delete(account.url(f"/members/{agent.user_id}"), headers=hr.headers).status_code
        == 403
    )


def test_members_of_another_account_are_invisible(client, account, agent, other_account):
    for response in (
        client.get(account.url("/members"), headers=other_account.headers),
        client.patch(
            account.url(f"/members/{agent.user_id}"),
            json={"role": "admin"},
            headers=other_account.headers,
        ),
        client.delete(account.url(f"/members/{agent.user_id}"), headers=other_account.headers),
    ):
        assert response.status_code == 404
        assert response.json["code"] == "account_not_found"
    # Nor through one's own account's URL.
    response = client.patch(
        other_account.url(f"/members/{agent.user_id}"),
        json={"role": "admin"},
        headers=other_account.headers,
    )
    assert response.status_code == 404
    assert members(client, account)[agent.user_id]["role"] == "agent"


def test_role_changes_validate_their_input(client, account, agent):
    for body in ({}, {"role": "owner", "role_id": str(uuid.uuid4())}, {"role": "boss"}):
        response = patch_role(client, account, agent, body)
        assert response.status_code == 422, body
    unknown = patch_role(client, account, agent, {"role_id": str(uuid.uuid4())})
    assert unknown.status_code == 422
    assert "role_id" in unknown.json["errors"]


def test_users_edit_their_own_name_and_avatar_only(client, account, agent):
    response = client.patch(
        "/v1/me",
        json={"name": "Ada L.", "avatar_url": "https://cdn.example/ada.png"},
        headers=agent.headers,
    )
    assert response.status_code == 200, response.json
    assert response.json["name"] == "Ada L."
    assert response.json["avatar_url"] == "https://cdn.example/ada.png"
    assert members(client, account)[agent.user_id]["name"] == "Ada L."
    for field, value in (("email", "new@example.test"), ("role", "owner")):
        refused = client.patch("/v1/me", json={field: value}, headers=agent.headers)
        assert refused.status_code == 422
        assert field in refused.json["errors"]
    bad = client.patch("/v1/me", json={"avatar_url": "javascript:alert(1)"}, headers=agent.headers)
    assert bad.status_code == 422
    assert client.patch("/v1/me", json={"name": "X"}).status_code == 401
    context = client.get("/v1/me/context", headers=agent.headers).json
    assert context["user"]["name"] == "Ada L."
    assert context["accounts"][0]["role"] == "agent"


def test_context_lists_every_account_with_its_permissions(
    client, account, other_account, add_member
):
    admin_elsewhere = add_member(other_account.account_id, "admin")
    response = client.post(
        "/v1/invitations/accept", json={"token": "nope"}, headers=admin_elsewhere.headers
    )
    assert response.status_code == 400
    context = client.get("/v1/me/context", headers=account.headers).json
    (only,) = context["accounts"]
    assert only["id"] == account.account_id
    assert "owners:manage" in only["permissions"]
    admin = client.get("/v1/me/context", headers=admin_elsewhere.headers).json["accounts"][0]
    assert admin["role"] == "admin"
    assert "owners:manage" not in admin["permissions"]
    assert "members:manage" in admin["permissions"]
