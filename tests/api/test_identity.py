"""Sign-up, log-in, the user's context and creating more accounts."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from identity.models import User
from tenants.db import db
from tests.conftest import unique_email


def test_signup_creates_user_account_and_owner_membership(client, app):
    email = unique_email()
    response = client.post(
        "/v1/auth/signup",
        json={
            "email": email.upper(),
            "password": "long enough password",
            "name": " Mo ",
            "account_name": "Mo's Bakery",
        },
    )
    assert response.status_code == 201
    body = response.json
    assert body["user"]["email"] == email
    assert body["user"]["name"] == "Mo"
    assert body["account"]["slug"].startswith("mo-s-bakery")
    assert body["account"]["status"] == "active"
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert "password" not in body["user"]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user.password_hash.startswith("$argon2id$")
    context = client.get(
        "/v1/me/context", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json
    assert [(a["id"], a["role"]) for a in context["accounts"]] == [(body["account"]["id"], "owner")]


def test_signup_with_a_registered_email_is_a_conflict(client, account):
    response = client.post(
        "/v1/auth/signup",
        json={
            "email": account.email.upper(),
            "password": "long enough password",
            "name": "Again",
            "account_name": "Second",
        },
    )
    assert response.status_code == 409
    assert response.json["code"] == "email_taken"


def test_signup_validates_every_field(client):
    response = client.post("/v1/auth/signup", json={"email": "nope", "password": "short"})
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"email", "password", "name", "account_name"}


def test_login_issues_a_token_that_works(client, account):
    response = client.post(
        "/v1/auth/login", json={"email": account.email.upper(), "password": account.password}
    )
    assert response.status_code == 200
    headers = {"Authorization": f"Bearer {response.json['access_token']}"}
    assert client.get(account.url(), headers=headers).json["role"] == "owner"


def test_login_failures_do_not_reveal_whether_the_email_exists(client, account):
    wrong_password = client.post(
        "/v1/auth/login", json={"email": account.email, "password": "not the password"}
    )
    unknown_email = client.post(
        "/v1/auth/login", json={"email": unique_email(), "password": "not the password"}
    )
    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert response.json["code"] == "invalid_credentials"
    assert wrong_password.json["message"] == unknown_email.json["message"]


def test_a_user_in_several_accounts_sees_each_with_its_role(
    client, account, add_member, signup, verify_email
):
    verify_email(account)
    second = client.post("/v1/accounts", json={"name": "Side Project"}, headers=account.headers)
    assert second.status_code == 201
    assert second.json["role"] == "owner"
    foreign = signup("Foreign")
    agent = add_member(foreign.account_id, "agent")
    context = client.get("/v1/me/context", headers=account.headers).json
    assert context["user"]["email"] == account.email
    assert {a["name"]: a["role"] for a in context["accounts"]} == {
        "Acme": "owner",
        "Side Project": "owner",
    }
    agent_context = client.get("/v1/me/context", headers=agent.headers).json
    assert [(a["name"], a["role"]) for a in agent_context["accounts"]] == [("Foreign", "agent")]


def test_the_current_account_shows_the_callers_role(client, account, agent, other_account):
    assert client.get(account.url(), headers=account.headers).json["role"] == "owner"
    as_agent = client.get(agent.url(), headers=agent.headers)
    assert as_agent.status_code == 200
    assert as_agent.json["role"] == "agent"
    assert as_agent.json["id"] == account.account_id
    assert client.get(other_account.url(), headers=agent.headers).status_code == 404


def test_creating_an_account_with_a_taken_slug_is_a_conflict(client, account, verify_email):
    verify_email(account)
    first = client.post(
        "/v1/accounts", json={"name": "X", "slug": "taken-slug"}, headers=account.headers
    )
    assert first.status_code == 201
    again = client.post(
        "/v1/accounts", json={"name": "Y", "slug": "taken-slug"}, headers=account.headers
    )
    assert again.status_code == 409
    assert again.json["code"] == "slug_taken"
    assert again.json["errors"] == {"slug": ["the slug 'taken-slug' is taken"]}


def test_a_token_whose_user_is_gone_is_refused(client, app, signup):
    member = signup("Ephemeral")
    with app.app_context():
        db.session.delete(db.session.get(User, uuid.UUID(member.user_id)))
        db.session.commit()
    response = client.get("/v1/me/context", headers=member.headers)
    assert response.status_code == 401
    assert response.json["code"] == "invalid_token"
    assert client.get(member.url(), headers=member.headers).status_code == 404
