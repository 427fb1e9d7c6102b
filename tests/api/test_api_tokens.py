"""API tokens: created once-shown and hashed, scoped, bound to one account, revocable."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from identity.api_tokens import ApiToken
from tenants.db import db, utcnow
from tenants.models import Membership, Role


@pytest.fixture
def owner(account, verify_email):
    return verify_email(account)


def create(client, member, **body):
    body = {"name": "CI", "scopes": ["contacts:read"], **body}
    return client.post(member.url("/api-tokens"), headers=member.headers, json=body)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def stored(app, token_id: str) -> ApiToken:
    with app.app_context():
        return db.session.get(ApiToken, uuid.UUID(token_id))


def set_column(app, token_id: str, **values) -> None:
    with app.app_context():
        db.session.execute(
            update(ApiToken).where(ApiToken.id == uuid.UUID(token_id)).values(**values)
        )
        db.session.commit()


def test_the_secret_is_shown_once_and_stored_hashed(app, client, owner):
    response = create(client, owner, scopes=["contacts:read", "contacts:write"])
    assert response.status_code == 201, response.json
    body = response.json
    secret = body["token"]
    assert secret.startswith("tt_") and len(secret) > 40
    assert secret.startswith(body["prefix"]) and len(body["prefix"]) < 16
    assert body["scopes"] == ["contacts:read", "contacts:write"]
    assert body["created_by"] == owner.user_id
    assert body["last_used_at"] is None

    row = stored(app, body["id"])
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (row.token_hash, row.prefix)

    listed = client.get(owner.url("/api-tokens"), headers=owner.headers).json["items"]
    assert [t["id"] for t in listed] == [body["id"]]
    assert "token" not in listed[0]
    assert secret not in str(listed)

    log = client.get(
        owner.url("/audit-log"),
        headers=owner.headers,
        query_string={"filter": "action:eq:api_token.created"},
    ).json["items"]
    assert [(e["target_id"], e["actor_id"]) for e in log] == [(body["id"], owner.user_id)]
    assert secret not in str(log)


def test_a_token_acts_within_its_scopes_in_its_own_account_only(client, owner, other_account):
    secret = create(client, owner, scopes=["contacts:read"]).json["token"]
    assert client.get(owner.url("/contacts"), headers=bearer(secret)).status_code == 200
    response = client.post(owner.url("/contacts"), headers=bearer(secret), json={"name": "X"})
    assert response.status_code == 403
    assert response.json["errors"] == {"permission": ["contacts:write"]}
    # Audit, settings...: not in its scopes even though its creator may.
    assert client.get(owner.url("/audit-log"), headers=bearer(secret)).status_code == 403

    # Another account's endpoints: as if the account did not exist.
    response = client.get(other_account.url("/contacts"), headers=bearer(secret))
    assert response.status_code == 404
    assert response.json["code"] == "account_not_found"
    # Endpoints that are not an account's: refused outright.
    for path in ("/v1/me/context", "/v1/me/deleted-accounts"):
        response = client.get(path, headers=bearer(secret))
        assert response.status_code == 401
        assert response.json["code"] == "api_token_not_allowed"
    assert client.delete("/v1/me", headers=bearer(secret)).status_code == 401
    # A made-up token is simply invalid.
    response = client.get(owner.url("/contacts"), headers=bearer("tt_" + "x" * 43))
    assert response.status_code == 401
    assert response.json["code"] == "invalid_token"


def test_actions_through_a_token_are_audited_as_the_token(client, owner):
    created = create(client, owner, scopes=["settings:read", "settings:manage"]).json
    response = client.patch(
        owner.url("/settings"), headers=bearer(created["token"]), json={"locale": "fr"}
    )
    assert response.status_code == 200, response.json
    (entry,) = client.get(
        owner.url("/audit-log"),
        headers=owner.headers,
        query_string={"filter": "action:eq:settings.updated"},
    ).json["items"]
    assert entry["actor_type"] == "api_token"
    assert entry["actor_id"] == created["id"]


def test_revoked_and_expired_tokens_are_refused(app, client, owner, other_account):
    first = create(client, owner).json
    second = create(client, owner, expires_at=(utcnow() + timedelta(days=1)).isoformat()).json
    # Somebody else's account cannot revoke it (nor learn it exists).
    response = client.delete(
        other_account.url(f"/api-tokens/{first['id']}"), headers=other_account.headers
    )
    assert response.status_code == 404
    assert client.get(owner.url("/contacts"), headers=bearer(first["token"])).status_code == 200

    response = client.delete(owner.url(f"/api-tokens/{first['id']}"), headers=owner.headers)
    assert response.status_code == 204
    response = client.get(owner.url("/contacts"), headers=bearer(first["token"]))
    assert response.status_code == 401
    assert response.json["code"] == "api_token_revoked"
    listed = client.get(owner.url("/api-tokens"), headers=owner.headers).json["items"]
    assert [t["id"] for t in listed] == [second["id"]]
    again = client.delete(owner.url(f"/api-tokens/{first['id']}"), headers=owner.headers)
    assert again.status_code == 404

    assert client.get(owner.url("/contacts"), headers=bearer(second["token"])).status_code == 200
    set_column(app, second["id"], expires_at=utcnow() - timedelta(seconds=1))
    response = client.get(owner.url("/contacts"), headers=bearer(second["token"]))
    assert response.status_code == 401
    assert response.json["code"] == "api_token_expired"

    actions = [
        e["action"]
        for e in client.get(owner.url("/audit-log"), headers=owner.headers).json["items"]
    ]
    assert actions.count("api_token.revoked") == 1


def test_last_used_is_recorded_at_most_once_a_minute(app, client, owner):
    created = create(client, owner).json
    client.get(owner.url("/contacts"), headers=bearer(created["token"]))
    first_use = stored(app, created["id"]).last_used_at
    assert first_use is not None
    client.get(owner.url("/contacts"), headers=bearer(created["token"]))
    assert stored(app, created["id"]).last_used_at == first_use
    set_column(app, created["id"], last_used_at=utcnow() - timedelta(minutes=2))
    client.get(owner.url("/contacts"), headers=bearer(created["token"]))
    assert stored(app, created["id"]).last_used_at > first_use - timedelta(seconds=1)
    assert stored(app, created["id"]).last_used_at > utcnow() - timedelta(seconds=30)


@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        (["contacts:read", "no:such"], "unknown permissions: no:such"),
        (["account:delete"], "not available to API tokens: account:delete"),
        (["api_tokens:manage"], "not available to API tokens: api_tokens:manage"),
        ([], None),
    ],
)
def test_scopes_are_validated(client, owner, scopes, message):
    response = create(client, owner, scopes=scopes)
    assert response.status_code == 422
    if message:
        assert response.json["errors"]["scopes"] == [message]


def test_expiry_must_be_in_the_future(client, owner):
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    response = create(client, owner, expires_at=past)
    assert response.status_code == 422
    assert "expires_at" in response.json["errors"]


def test_who_may_manage_tokens(client, owner, agent, add_member, verify_email, signup):
    response = create(client, agent)
    assert response.status_code == 403
    assert response.json["errors"] == {"permission": ["api_tokens:manage"]}
    assert client.get(owner.url("/api-tokens"), headers=agent.headers).status_code == 403
    admin = verify_email(add_member(owner.account_id, "admin"))
    assert create(client, admin).status_code == 201
    # An unverified owner must verify their email first.
    unverified = signup("Fresh")
    response = create(client, unverified)
    assert response.status_code == 403
    assert response.json["code"] == "email_unverified"


def test_scopes_cannot_exceed_the_creator_and_shrink_with_them(
    app, client, owner, add_member, verify_email
):
    response = client.post(
        owner.url("/roles"),
        headers=owner.headers,
        json={"name": "Integrator", "permissions": ["api_tokens:manage", "contacts:read"]},
    )
    assert response.status_code == 201, response.json
    integrator = verify_email(add_member(owner.account_id, custom_role_id=response.json["id"]))
    response = create(client, integrator, scopes=["contacts:read", "contacts:write"])
    assert response.status_code == 422
    assert response.json["errors"]["scopes"] == ["more than you may do yourself: contacts:write"]

    # An admin's token with audit:read works until the admin becomes an agent.
    admin = verify_email(add_member(owner.account_id, "admin"))
    secret = create(client, admin, scopes=["audit:read", "contacts:read"]).json["token"]
    assert client.get(owner.url("/audit-log"), headers=bearer(secret)).status_code == 200
    with app.app_context():
        db.session.execute(
            update(Membership)
            .where(Membership.user_id == uuid.UUID(admin.user_id))
            .values(role=Role.AGENT)
        )
        db.session.commit()
    response = client.get(owner.url("/audit-log"), headers=bearer(secret))
    assert response.status_code == 403
    assert client.get(owner.url("/contacts"), headers=bearer(secret)).status_code == 200
    # A creator who leaves the account takes their tokens' access with them.
    with app.app_context():
        membership = db.session.scalar(
            select(Membership).where(Membership.user_id == uuid.UUID(admin.user_id))
        )
        db.session.delete(membership)
        db.session.commit()
    assert client.get(owner.url("/contacts"), headers=bearer(secret)).status_code == 404
