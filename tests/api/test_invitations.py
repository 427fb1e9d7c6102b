"""Invitations: emailed links, accepting as a new or existing user, expiry, revoke, resend."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from tenants.db import db, utcnow
from tenants.models import Invitation
from tests.conftest import unique_email


@pytest.fixture
def owner(account, verify_email):
    return verify_email(account)


def invite(client, owner, email, **body):
    body = {"email": email, **(body or {"role": "agent"})}
    return client.post(owner.url("/invitations"), json=body, headers=owner.headers)


def token_from(mailbox, email) -> str:
    """The token of the latest invitation mailed to ``email`` (other mail may arrive too)."""
    tokens = [
        token
        for message in mailbox.to(email)
        for token in re.findall(
            r"/accept-invitation\?token=([A-Za-z0-9_\-]+)",
            message.get_body(("plain",)).get_content(),
        )
    ]
    assert tokens, f"no invitation mailed to {email}"
    return tokens[-1]


def invite_and_read(client, owner, mailbox, run_jobs, email, **body) -> tuple[dict, str]:
    response = invite(client, owner, email, **body)
    assert response.status_code == 201, response.json
    run_jobs()
    return response.json, token_from(mailbox, email)


def test_a_new_user_accepts_by_email_link_and_gets_tokens(client, owner, mailbox, run_jobs):
    email = unique_email("invitee")
    invitation, token = invite_and_read(client, owner, mailbox, run_jobs, email)
    assert invitation["status"] == "pending"
    (message,) = [m for m in mailbox.to(email) if "invited" in m["Subject"]]
    assert "Acme" in message["Subject"]
    assert (
        "http://console.test/accept-invitation?token=" in message.get_body(("html",)).get_content()
    )
    listed = client.get(owner.url("/invitations"), headers=owner.headers).json["items"]
    assert [i["email"] for i in listed] == [email]

    accepted = client.post(
        "/v1/invitations/accept",
        json={"token": token, "name": "Grace", "password": "a long new password"},
    )
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["role"] == "agent"
    assert accepted.json["account"]["id"] == owner.account_id
    headers = {"Authorization": f"Bearer {accepted.json['access_token']}"}
    context = client.get("/v1/me/context", headers=headers).json
    assert context["user"]["email_verified"] is True
    assert [a["id"] for a in context["accounts"]] == [owner.account_id]
    login = client.post("/v1/auth/login", json={"email": email, "password": "a long new password"})
    assert login.status_code == 200

    used = client.post("/v1/invitations/accept", json={"token": token}, headers=headers)
    assert used.status_code == 410
    assert used.json["code"] == "invitation_used"
    assert client.get(owner.url("/invitations"), headers=owner.headers).json["items"] == []
    actions = [
        e["action"]
        for e in client.get(
            owner.url("/audit-log"),
            query_string={"filter": "target_type:eq:invitation"},
            headers=owner.headers,
        ).json["items"]
    ]
    assert sorted(actions) == ["invitation.accepted", "invitation.created"]


def test_an_existing_user_accepts_signed_in_with_a_custom_role(
    client, owner, other_account, mailbox, run_jobs
):
    role = client.post(
        owner.url("/roles"),
        json={"name": "Viewer", "permissions": ["contacts:read"]},
        headers=owner.headers,
    ).json
    _, token = invite_and_read(
        client, owner, mailbox, run_jobs, other_account.email, role_id=role["id"]
    )
    # Without a token the email is taken: the invitee must sign in.
    anonymous = client.post(
        "/v1/invitations/accept", json={"token": token, "name": "X", "password": "long enough pw"}
    )
    assert anonymous.status_code == 409
    assert anonymous.json["code"] == "email_taken"

    accepted = client.post(
        "/v1/invitations/accept", json={"token": token}, headers=other_account.headers
    )
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["custom_role"]["name"] == "Viewer"
    assert "access_token" not in accepted.json
    accounts = client.get("/v1/me/context", headers=other_account.headers).json["accounts"]
    acme = next(a for a in accounts if a["id"] == owner.account_id)
    assert acme["permissions"] == ["contacts:read"]
    listed = client.get(owner.url("/members"), headers=owner.headers).json["items"]
    assert other_account.user_id in {m["user_id"] for m in listed}


def test_only_the_invited_email_can_accept_signed_in(
    client, owner, other_account, mailbox, run_jobs
):
    _, token = invite_and_read(client, owner, mailbox, run_jobs, unique_email("someone"))
    response = client.post(
        "/v1/invitations/accept", json={"token": token}, headers=other_account.headers
    )
    assert response.status_code == 403
    assert response.json["code"] == "invitation_email_mismatch"


def test_expired_revoked_and_unknown_tokens_are_refused(client, app, owner, mailbox, run_jobs):
    body = {"name": "N", "password": "a long new password"}
    expired_email = unique_email("late")
    expired, token = invite_and_read(client, owner, mailbox, run_jobs, expired_email)
    with app.app_context():
        db.session.execute(
            update(Invitation)
            .where(Invitation.id == uuid.UUID(expired["id"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    response = client.post("/v1/invitations/accept", json={"token": token, **body})
    assert response.status_code == 410
    assert response.json["code"] == "invitation_expired"
    listed = client.get(owner.url("/invitations"), headers=owner.headers).json["items"]
    assert listed[0]["status"] == "expired"
    # An expired invitation does not block inviting again.
    assert invite(client, owner, expired_email).status_code == 201

    revoked, token = invite_and_read(client, owner, mailbox, run_jobs, unique_email("nope"))
    gone = client.delete(owner.url(f"/invitations/{revoked['id']}"), headers=owner.headers)
    assert gone.status_code == 204
    response = client.post("/v1/invitations/accept", json={"token": token, **body})
    assert response.status_code == 410
    assert response.json["code"] == "invitation_revoked"
    again = client.delete(owner.url(f"/invitations/{revoked['id']}"), headers=owner.headers)
    assert again.status_code == 404

    unknown = client.post("/v1/invitations/accept", json={"token": "x" * 43, **body})
    assert unknown.status_code == 400
    assert unknown.json["code"] == "invitation_invalid"
    incomplete = client.post("/v1/invitations/accept", json={"token": token})
    assert incomplete.status_code == 422
    assert set(incomplete.json["errors"]) == {"name", "password"}


def test_resend_issues_a_new_link_and_is_throttled(client, app, owner, mailbox, run_jobs):
    email = unique_email("again")
    invitation, first = invite_and_read(client, owner, mailbox, run_jobs, email)
    url = owner.url(f"/invitations/{invitation['id']}/resend")
    too_soon = client.post(url, headers=owner.headers)
    assert too_soon.status_code == 429
    assert too_soon.json["code"] == "resend_too_soon"
    assert 0 < int(too_soon.headers["Retry-After"]) <= 60

    with app.app_context():
        db.session.execute(
            update(Invitation)
            .where(Invitation.id == uuid.UUID(invitation["id"]))
            .values(last_sent_at=utcnow() - timedelta(minutes=2))
        )
        db.session.commit()
    resent = client.post(url, headers=owner.headers)
    assert resent.status_code == 200, resent.json
    assert resent.json["send_count"] == 2
    run_jobs()
    second = token_from(mailbox, email)
    assert second != first
    body = {"name": "N", "password": "a long new password"}
    old = client.post("/v1/invitations/accept", json={"token": first, **body})
    assert old.status_code == 400
    assert client.post("/v1/invitations/accept", json={"token": second, **body}).status_code == 200


def test_duplicates_and_members_are_conflicts(client, owner, agent):
    email = unique_email("twice")
    assert invite(client, owner, email).status_code == 201
    pending = invite(client, owner, email.upper())
    assert pending.status_code == 409
    assert pending.json["code"] == "invitation_pending"
    member = invite(client, owner, agent.email)
    assert member.status_code == 409
    assert member.json["code"] == "already_member"


def test_inviting_owners_needs_owners_manage_and_agents_cannot_invite(
    client, owner, agent, add_member, verify_email
):
    admin = verify_email(add_member(owner.account_id, "admin"))
    refused = invite(client, admin, unique_email("boss"), role="owner")
    assert refused.status_code == 403
    assert refused.json["errors"]["permission"] == ["owners:manage"]
    assert invite(client, admin, unique_email("helper"), role="admin").status_code == 201
    assert invite(client, owner, unique_email("boss"), role="owner").status_code == 201
    by_agent = invite(client, verify_email(agent), unique_email("friend"))
    assert by_agent.status_code == 403
    assert by_agent.json["errors"]["permission"] == ["members:manage"]
    assert client.get(owner.url("/invitations"), headers=agent.headers).status_code == 200


def test_unverified_inviters_are_refused(client, account):
    response = invite(client, account, unique_email("x"))
    assert response.status_code == 403
    assert response.json["code"] == "email_unverified"


def test_invitations_do_not_cross_accounts(client, owner, other_account, verify_email):
    created = invite(client, owner, unique_email("mine")).json
    other = verify_email(other_account)
    assert client.get(owner.url("/invitations"), headers=other.headers).status_code == 404
    for response in (
        client.delete(other.url(f"/invitations/{created['id']}"), headers=other.headers),
        client.post(other.url(f"/invitations/{created['id']}/resend"), headers=other.headers),
    ):
        assert response.status_code == 404
        assert response.json["code"] == "invitation_not_found"
    assert client.get(other.url("/invitations"), headers=other.headers).json["items"] == []
    # A role id of another account is not accepted either.
    role = client.post(
        owner.url("/roles"), json={"name": "R", "permissions": []}, headers=owner.headers
    ).json
    foreign = client.post(
        other.url("/invitations"),
        json={"email": unique_email("y"), "role_id": role["id"]},
        headers=other.headers,
    )
    assert foreign.status_code == 422
