"""Forgotten passwords: the reset email, the reset itself, and what it must not reveal."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from sqlalchemy import update

from core.jobs import queue
from identity.models import User
from identity.onetime import Purpose, issue
from tenants.db import db, utcnow
from tests.conftest import unique_email

LINK = re.compile(r"http://console\.test/reset-password\?token=([A-Za-z0-9_-]+)")
VERIFY_LINK = re.compile(r"http://console\.test/verify-email\?token=([A-Za-z0-9_-]+)")
NEW_PASSWORD = "a brand new passphrase"


def reset_token(mailbox, run_jobs, address: str) -> str:
    run_jobs()
    message = mailbox.last_to(address)
    assert message["Subject"] == "Reset your password"
    text = message.get_body(("plain",)).get_content()
    token = LINK.search(text).group(1)
    assert f"?token={token}" in message.get_body(("html",)).get_content()
    return token


def forgot(client, email: str, **kwargs):
    return client.post("/v1/auth/password/forgot", json={"email": email}, **kwargs)


def login(client, email: str, password: str):
    """Log in from an address of its own: other tests' IP lockouts must not interfere."""
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return client.post(
        "/v1/auth/login",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def high_jobs(app) -> int:
    with app.app_context():
        return queue("high").count


def test_reset_sets_the_password_verifies_the_email_and_notifies(
    client, app, account, other_account, mailbox, run_jobs
):
    run_jobs()
    response = forgot(client, account.email.upper())
    assert response.status_code == 202
    token = reset_token(mailbox, run_jobs, account.email)
    assert mailbox.to(other_account.email)[-1]["Subject"] == "Verify your email address"

    done = client.post(
        "/v1/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert done.status_code == 204
    assert login(client, account.email, NEW_PASSWORD).status_code == 200
    old = login(client, account.email, account.password)
    assert old.status_code == 401
    # Only this user changed: the other account's owner still logs in as before.
    assert login(client, other_account.email, other_account.password).status_code == 200

    run_jobs()
    notice = mailbox.last_to(account.email)
    assert notice["Subject"] == "Your password was changed"
    assert "forgot-password" in notice.get_body(("plain",)).get_content()
    with app.app_context():
        user = db.session.get(User, uuid.UUID(account.user_id))
        assert user.email_verified_at is not None
        assert user.password_changed_at is not None
        assert user.password_hash.startswith("$argon2id$")
    # Proof of the mailbox: the user may now do what unverified users may not.
    fresh = login(client, account.email, NEW_PASSWORD).json["access_token"]
    created = client.post(
        "/v1/accounts", json={"name": "After reset"}, headers={"Authorization": f"Bearer {fresh}"}
    )
    assert created.status_code == 201


def test_a_reset_token_works_once(client, account, mailbox, run_jobs):
    forgot(client, account.email)
    token = reset_token(mailbox, run_jobs, account.email)
    body = {"token": token, "new_password": NEW_PASSWORD}
    assert client.post("/v1/auth/password/reset", json=body).status_code == 204
    replay = client.post(
        "/v1/auth/password/reset", json={"token": token, "new_password": "yet another password"}
    )
    assert replay.status_code == 410
    assert replay.json["code"] == "token_used"
    assert login(client, account.email, NEW_PASSWORD).status_code == 200


def test_sessions_from_before_the_reset_stop_working(client, account, mailbox, run_jobs):
    before = login(client, account.email, account.password).json
    headers = {"Authorization": f"Bearer {before['access_token']}"}
    assert client.get("/v1/me/context", headers=headers).status_code == 200
    forgot(client, account.email)
    token = reset_token(mailbox, run_jobs, account.email)
    body = {"token": token, "new_password": NEW_PASSWORD}
    assert client.post("/v1/auth/password/reset", json=body).status_code == 204
    assert client.get("/v1/me/context", headers=headers).status_code == 401
    assert client.get("/v1/me/context", headers=account.headers).status_code == 401
    refreshed = client.post("/v1/auth/refresh", json={"refresh_token": before["refresh_token"]})
    assert refreshed.status_code == 401


def test_unknown_email_answers_identically_and_sends_nothing(
    client, app, account, mailbox, run_jobs
):
    run_jobs()
    nobody = unique_email("nobody")
    queued = high_jobs(app)
    known = forgot(client, account.email)
    assert high_jobs(app) == queued + 1
    unknown = forgot(client, nobody)
    # The same work either way: one queued job, whoever the address belongs to.
    assert high_jobs(app) == queued + 2
    assert known.status_code == unknown.status_code == 202
    assert known.json == unknown.json
    assert set(unknown.headers.keys()) == set(known.headers.keys())
    run_jobs()
    assert mailbox.to(nobody) == []
    assert mailbox.last_to(account.email)["Subject"] == "Reset your password"


def test_expired_unknown_and_superseded_tokens_are_refused(client, app, account, mailbox, run_jobs):
    with app.app_context():
        expired = issue(
            db.session,
            user_id=uuid.UUID(account.user_id),
            purpose=Purpose.RESET_PASSWORD,
            sent_to=account.email,
            ttl=timedelta(hours=1),
            now=utcnow() - timedelta(hours=2),
        )
        db.session.commit()
    body = {"token": expired.token, "new_password": NEW_PASSWORD}
    response = client.post("/v1/auth/password/reset", json=body)
    assert response.status_code == 410
    assert response.json["code"] == "token_expired"

    unknown = client.post(
        "/v1/auth/password/reset", json={"token": "made-up", "new_password": NEW_PASSWORD}
    )
    assert unknown.status_code == 400
    assert unknown.json["code"] == "token_invalid"

    forgot(client, account.email)
    first = reset_token(mailbox, run_jobs, account.email)
    forgot(client, account.email)
    second = reset_token(mailbox, run_jobs, account.email)
    old = client.post(
        "/v1/auth/password/reset", json={"token": first, "new_password": NEW_PASSWORD}
    )
    assert old.status_code == 410
    assert old.json["code"] == "token_superseded"
    assert login(client, account.email, account.password).status_code == 200
    new = client.post(
        "/v1/auth/password/reset", json={"token": second, "new_password": NEW_PASSWORD}
    )
    assert new.status_code == 204


def test_tokens_only_serve_their_own_purpose(client, account, mailbox, run_jobs):
    run_jobs()
    verify_token = VERIFY_LINK.search(
        mailbox.last_to(account.email).get_body(("plain",)).get_content()
    ).group(1)
    wrong = client.post(
        "/v1/auth/password/reset", json={"token": verify_token, "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 400
    assert wrong.json["code"] == "token_invalid"
    forgot(client, account.email)
    token = reset_token(mailbox, run_jobs, account.email)
    as_verification = client.post("/v1/auth/verify-email", json={"token": token})
    assert as_verification.status_code == 400
    assert as_verification.json["code"] == "token_invalid"
    assert login(client, account.email, account.password).status_code == 200


def test_reset_emails_are_capped_per_hour_without_telling(client, account, mailbox, run_jobs):
    run_jobs()
    before = len(mailbox.to(account.email))
    responses = [forgot(client, account.email) for _ in range(5)]
    assert {(r.status_code, r.json["message"]) for r in responses} == {
        (202, responses[0].json["message"])
    }
    run_jobs()
    assert len(mailbox.to(account.email)) - before == 3


def test_a_deleted_user_gets_no_reset_email(client, app, signup, mailbox, run_jobs):
    member = signup("Gone")
    with app.app_context():
        db.session.execute(
            update(User).where(User.id == uuid.UUID(member.user_id)).values(deleted_at=utcnow())
        )
        db.session.commit()
    run_jobs()
    before = len(mailbox.to(member.email))
    assert forgot(client, member.email).status_code == 202
    run_jobs()
    assert len(mailbox.to(member.email)) == before


def test_the_new_password_is_validated(client, account, mailbox, run_jobs):
    forgot(client, account.email)
    token = reset_token(mailbox, run_jobs, account.email)
    short = client.post("/v1/auth/password/reset", json={"token": token, "new_password": "short"})
    assert short.status_code == 422
    assert set(short.json["errors"]) == {"new_password"}
    # A refused request does not spend the token.
    body = {"token": token, "new_password": NEW_PASSWORD}
    assert client.post("/v1/auth/password/reset", json=body).status_code == 204


def test_repeated_bad_reset_tokens_from_one_ip_are_locked_out(make_app):
    client = make_app(login_ip_max_failures=2, login_lockout=60).test_client()
    ip = {"REMOTE_ADDR": f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.9"}
    body = {"token": "guess", "new_password": NEW_PASSWORD}
    for _ in range(2):
        response = client.post("/v1/auth/password/reset", json=body, environ_base=ip)
        assert response.status_code == 400
    locked = client.post("/v1/auth/password/reset", json=body, environ_base=ip)
    assert locked.status_code == 429
    assert locked.json["code"] == "too_many_attempts"
    assert 0 < int(locked.headers["Retry-After"]) <= 60
