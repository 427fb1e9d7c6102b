"""Email verification: the sign-up email, its link and code, resending, and what it unlocks."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from identity.models import User
from identity.onetime import OneTimeToken, Purpose, hash_secret, issue
from tenants.db import db, utcnow

LINK = re.compile(r"http://console\.test/verify-email\?token=([A-Za-z0-9_-]+)")
CODE = re.compile(r"this code in Turumba: ([A-Z0-9]{4}-[A-Z0-9]{4})")


def mailed(mailbox, run_jobs, address: str) -> tuple[str, str]:
    """The token and the code of the latest verification email to ``address``."""
    run_jobs()
    message = mailbox.last_to(address)
    assert message["Subject"] == "Verify your email address"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    token, code = LINK.search(text).group(1), CODE.search(text).group(1)
    assert f"?token={token}" in html and code in html
    return token, code


def status(client, member) -> dict:
    response = client.get("/v1/me/email-verification", headers=member.headers)
    assert response.status_code == 200
    return response.json


def backdate(app, member, minutes: int) -> None:
    """Pretend the member's verification emails were sent ``minutes`` earlier (real rows)."""
    with app.app_context():
        db.session.execute(
            update(OneTimeToken)
            .where(OneTimeToken.user_id == uuid.UUID(member.user_id))
            .values(created_at=OneTimeToken.created_at - timedelta(minutes=minutes))
        )
        db.session.commit()


def test_sign_up_mails_a_link_and_a_code_stored_only_as_hashes(
    client, app, account, mailbox, run_jobs
):
    assert status(client, account) == {
        "email": account.email,
        "verified": False,
        "verified_at": None,
    }
    token, code = mailed(mailbox, run_jobs, account.email)
    with app.app_context():
        (row,) = db.session.scalars(
            select(OneTimeToken).where(OneTimeToken.user_id == uuid.UUID(account.user_id))
        )
        assert row.purpose == "verify_email" and row.sent_to == account.email
        assert row.token_hash == hash_secret(token)
        stored = {str(v) for v in (row.token_hash, row.code_hash)}
        assert token not in stored and code.replace("-", "") not in stored
        assert timedelta(hours=23) < row.expires_at - row.created_at <= timedelta(hours=24)


def test_the_link_verifies_once_and_only_its_own_user(
    client, account, other_account, mailbox, run_jobs
):
    token, _ = mailed(mailbox, run_jobs, account.email)
    response = client.post("/v1/auth/verify-email", json={"token": token})
    assert response.status_code == 200
    assert response.json["email"] == account.email and response.json["verified"] is True
    assert status(client, account)["verified"] is True
    assert status(client, other_account)["verified"] is False

    replay = client.post("/v1/auth/verify-email", json={"token": token})
    assert replay.status_code == 410
    assert replay.json["code"] == "token_used"


def test_unknown_and_expired_tokens_are_refused_with_their_own_codes(client, app, account):
    unknown = client.post("/v1/auth/verify-email", json={"token": "no-such-token"})
    assert unknown.status_code == 400
    assert unknown.json["code"] == "token_invalid"

    with app.app_context():
        user = db.session.get(User, uuid.UUID(account.user_id))
        expired = issue(
            db.session,
            user_id=user.id,
            purpose=Purpose.VERIFY_EMAIL,
            sent_to=user.email,
            ttl=timedelta(hours=24),
            now=utcnow() - timedelta(hours=25),
        )
        db.session.commit()
    response = client.post("/v1/auth/verify-email", json={"token": expired.token})
    assert response.status_code == 410
    assert response.json["code"] == "token_expired"
    assert status(client, account)["verified"] is False


def test_the_code_works_only_for_the_signed_in_user(
    client, account, other_account, mailbox, run_jobs
):
    _, code = mailed(mailbox, run_jobs, account.email)
    stolen = client.post("/v1/me/verify-email", json={"code": code}, headers=other_account.headers)
    assert stolen.status_code == 400
    assert stolen.json["code"] == "token_invalid"
    assert status(client, other_account)["verified"] is False

    typed = code.lower().replace("-", " ")
    response = client.post("/v1/me/verify-email", json={"code": typed}, headers=account.headers)
    assert response.status_code == 200
    assert response.json["verified"] is True
    again = client.post("/v1/me/verify-email", json={"code": code}, headers=account.headers)
    assert again.status_code == 409
    assert again.json["code"] == "email_already_verified"
    assert client.post("/v1/me/verify-email", json={"code": code}).status_code == 401


def test_five_wrong_codes_kill_the_token(client, account, mailbox, run_jobs):
    _, code = mailed(mailbox, run_jobs, account.email)
    for _ in range(5):
        wrong = client.post(
            "/v1/me/verify-email", json={"code": "ZZZZ-ZZZZ"}, headers=account.headers
        )
        assert wrong.status_code == 400
        assert wrong.json["code"] == "token_invalid"
    response = client.post("/v1/me/verify-email", json={"code": code}, headers=account.headers)
    assert response.status_code == 410
    assert response.json["code"] == "token_superseded"
    assert status(client, account)["verified"] is False


def test_resending_is_throttled_and_supersedes_the_older_link(
    client, app, account, mailbox, run_jobs
):
    first, _ = mailed(mailbox, run_jobs, account.email)
    too_soon = client.post("/v1/me/verification-email", headers=account.headers)
    assert too_soon.status_code == 429
    assert too_soon.json["code"] == "rate_limited"
    assert 0 < int(too_soon.headers["Retry-After"]) <= 60

    backdate(app, account, minutes=2)
    resent = client.post("/v1/me/verification-email", headers=account.headers)
    assert resent.status_code == 202
    assert resent.json["sent_to"] == account.email
    second, _ = mailed(mailbox, run_jobs, account.email)
    assert second != first
    old = client.post("/v1/auth/verify-email", json={"token": first})
    assert old.status_code == 410
    assert old.json["code"] == "token_superseded"

    # Five emails a day, sign-up's included: three more resends, then a day's wait.
    for _ in range(3):
        backdate(app, account, minutes=2)
        assert client.post("/v1/me/verification-email", headers=account.headers).status_code == 202
    backdate(app, account, minutes=2)
    daily = client.post("/v1/me/verification-email", headers=account.headers)
    assert daily.status_code == 429
    wait = int(daily.headers["Retry-After"])
    assert 23 * 3600 < wait <= 24 * 3600 - 8 * 60 + 1

    latest, _ = mailed(mailbox, run_jobs, account.email)
    assert client.post("/v1/auth/verify-email", json={"token": latest}).status_code == 200
    verified = client.post("/v1/me/verification-email", headers=account.headers)
    assert verified.status_code == 409
    assert verified.json["code"] == "email_already_verified"


def test_resends_of_one_user_do_not_throttle_another(client, app, account, other_account):
    backdate(app, account, minutes=2)
    assert client.post("/v1/me/verification-email", headers=account.headers).status_code == 202
    assert (
        client.post("/v1/me/verification-email", headers=other_account.headers).status_code == 429
    )
    backdate(app, other_account, minutes=2)
    assert (
        client.post("/v1/me/verification-email", headers=other_account.headers).status_code == 202
    )


def test_an_unverified_user_cannot_create_accounts_until_verified(
    client, account, agent, mailbox, run_jobs
):
    # Unverified users log in and work in their account as usual...
    assert client.get(account.url(), headers=account.headers).status_code == 200
    refused = client.post("/v1/accounts", json={"name": "Second"}, headers=account.headers)
    assert refused.status_code == 403
    assert refused.json["code"] == "email_unverified"

    token, _ = mailed(mailbox, run_jobs, account.email)
    assert client.post("/v1/auth/verify-email", json={"token": token}).status_code == 200
    created = client.post("/v1/accounts", json={"name": "Second"}, headers=account.headers)
    assert created.status_code == 201
    # ...and one user's verification does nothing for another (the agent never verified).
    other = client.post("/v1/accounts", json={"name": "Third"}, headers=agent.headers)
    assert other.status_code == 403
    assert other.json["code"] == "email_unverified"


def test_repeated_bad_tokens_from_one_ip_are_locked_out(make_app, account):
    client = make_app(login_ip_max_failures=3, login_lockout=60).test_client()
    ip = {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"}
    for _ in range(3):
        response = client.post("/v1/auth/verify-email", json={"token": "guess"}, environ_base=ip)
        assert response.status_code == 400
    locked = client.post("/v1/auth/verify-email", json={"token": "guess"}, environ_base=ip)
    assert locked.status_code == 429
    assert locked.json["code"] == "too_many_attempts"
    assert 0 < int(locked.headers["Retry-After"]) <= 60
    elsewhere = client.post(
        "/v1/auth/verify-email", json={"token": "guess"}, environ_base={"REMOTE_ADDR": "10.0.0.1"}
    )
    assert elsewhere.status_code == 400
