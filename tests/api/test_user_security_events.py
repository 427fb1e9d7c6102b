"""A user's security events reach the audit log of every account they belong to, only those."""

from __future__ import annotations

import dataclasses
import json
import re
import time
import uuid

import pyotp
import pytest
from sqlalchemy import select

from audit.models import AuditEntry
from audit.service import Actor
from audit.user_events import UserEventFailed, record_user_event, write_user_event
from core.jobs import enqueue, queue
from tenants.db import db
from tenants.models import Membership, Role
from tenants.registry import registry
from tenants.session import tenant_session

CODE = re.compile(r"this code in Turumba: ([A-Z0-9]{4}-[A-Z0-9]{4})")
RESET_LINK = re.compile(r"http://console\.test/reset-password\?token=([A-Za-z0-9_-]+)")


def join(app, member, account_id: str, role: str = "agent"):
    """Add ``member``'s existing user to another account; the same token, that account."""
    with app.app_context():
        db.session.add(
            Membership(
                account_id=uuid.UUID(account_id), user_id=uuid.UUID(member.user_id), role=Role(role)
            )
        )
        db.session.commit()
    return dataclasses.replace(member, account_id=account_id, role=role)


def events(client, reader, action: str, user_id: str) -> list[dict]:
    response = client.get(
        reader.url("/audit-log"),
        headers=reader.headers,
        query_string={"filter": [f"action:eq:{action}", f"target_id:eq:{user_id}"]},
    )
    assert response.status_code == 200, response.json
    return response.json["items"]


def jobs_queued(app) -> int:
    with app.app_context():
        return queue("default").count


@pytest.fixture
def world(app, signup):
    """``user`` owns A and is an agent of B (owned by ``b``); ``c`` owns an unrelated C."""
    user, b, c = signup("Alpha"), signup("Beta"), signup("Gamma")
    return user, join(app, user, b.account_id), b, c


def test_a_password_change_reaches_every_account_of_the_user_and_no_other(
    client, app, world, run_jobs
):
    user, user_in_b, b, c = world
    changed = client.post(
        "/v1/me/password",
        json={"current_password": user.password, "new_password": "another fine passphrase"},
        headers={**user.headers, "User-Agent": "phone/1.0"},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert changed.status_code == 200, changed.json
    user = dataclasses.replace(user, token=changed.json["access_token"])
    run_jobs()

    (in_a,) = events(client, user, "user.password_changed", user.user_id)
    (in_b,) = events(client, b, "user.password_changed", user.user_id)
    for entry in (in_a, in_b):
        assert entry["actor_type"] == "user"
        assert entry["actor_id"] == user.user_id
        assert entry["actor_ip"] == "10.9.8.7"
        assert entry["user_agent"] == "phone/1.0"
        assert entry["target_type"] == "user"
        assert entry["target_id"] == user.user_id
        assert entry["request_id"]
        assert entry["after"]["sessions_revoked"] == 0
    assert in_a["after"]["event_id"] == in_b["after"]["event_id"]
    assert in_a["request_id"] == in_b["request_id"]
    assert "password" not in json.dumps(in_a["after"])
    assert events(client, c, "user.password_changed", user.user_id) == []

    # In B the user is an agent: no audit:read, so they cannot read B's log.
    user_in_b = dataclasses.replace(user_in_b, token=user.token)
    denied = client.get(user_in_b.url("/audit-log"), headers=user_in_b.headers)
    assert denied.status_code == 403
    assert denied.json["errors"] == {"permission": ["audit:read"]}
    # And C's owner cannot reach A's log at all.
    assert client.get(user.url("/audit-log"), headers=c.headers).status_code == 404


def test_mfa_events_carry_no_codes(client, app, world, run_jobs):
    user, _, b, c = world
    started = client.post("/v1/me/mfa/totp", headers=user.headers)
    assert started.status_code == 201
    secret = started.json["secret"]
    code = pyotp.TOTP(secret).at(time.time())
    confirmed = client.post("/v1/me/mfa/totp/confirm", json={"code": code}, headers=user.headers)
    assert confirmed.status_code == 200, confirmed.json
    first = confirmed.json["recovery_codes"]
    regenerated = client.post(
        "/v1/me/mfa/recovery-codes", json={"recovery_code": first[0]}, headers=user.headers
    )
    assert regenerated.status_code == 200, regenerated.json
    second = regenerated.json["recovery_codes"]
    disabled = client.delete(
        "/v1/me/mfa", query_string={"recovery_code": second[0]}, headers=user.headers
    )
    assert disabled.status_code == 204, disabled.json
    run_jobs()

    expected = {
        "user.mfa_enabled": {"method": "totp"},
        "user.recovery_codes_regenerated": {"factor": "recovery_code"},
        "user.mfa_disabled": {"factor": "recovery_code"},
    }
    for action, details in expected.items():
        for reader in (user, b):
            (entry,) = events(client, reader, action, user.user_id)
            assert {k: v for k, v in entry["after"].items() if k != "event_id"} == details
            dumped = json.dumps(entry)
            for secret_value in (secret, code, *first, *second):
                assert secret_value not in dumped
        assert events(client, c, action, user.user_id) == []


def test_sessions_email_reset_and_deletion_are_recorded(
    client, app, world, add_member, mailbox, run_jobs
):
    user, _, b, c = world
    # Sign-up mailed a verification code; typing it verifies the address.
    run_jobs()
    code = CODE.search(mailbox.last_to(user.email).get_body(("plain",)).get_content()).group(1)
    assert (
        client.post("/v1/me/verify-email", json={"code": code}, headers=user.headers).status_code
        == 200
    )
    revoked = client.post("/v1/me/sessions/revoke-others", headers=user.headers)
    assert revoked.status_code == 200
    assert client.post("/v1/auth/password/forgot", json={"email": user.email}).status_code == 202
    run_jobs()
    text = mailbox.last_to(user.email).get_body(("plain",)).get_content()
    token = RESET_LINK.search(text).group(1)
    reset = client.post(
        "/v1/auth/password/reset",
        json={"token": token, "new_password": "reset to something long"},
        environ_base={"REMOTE_ADDR": "10.4.4.4"},
    )
    assert reset.status_code == 204, reset.json
    # An agent of A who is also in B deletes themself.
    leaver = add_member(user.account_id, "agent")
    join(app, leaver, b.account_id)
    assert client.delete("/v1/me", headers=leaver.headers).status_code == 204
    run_jobs()

    logged_in = client.post(
        "/v1/auth/login", json={"email": user.email, "password": "reset to something long"}
    )
    user = dataclasses.replace(user, token=logged_in.json["access_token"])
    for reader in (user, b):
        (verified,) = events(client, reader, "user.email_verified", user.user_id)
        assert verified["after"]["method"] == "code"
        assert verified["after"]["email"] == user.email
        assert code not in json.dumps(verified)
        (others,) = events(client, reader, "user.other_sessions_revoked", user.user_id)
        assert others["after"]["sessions_revoked"] == 0
        (was_reset,) = events(client, reader, "user.password_reset", user.user_id)
        assert was_reset["actor_type"] == "user"
        assert was_reset["actor_id"] == user.user_id
        assert was_reset["actor_ip"] == "10.4.4.4"
        assert token not in json.dumps(was_reset)
        (deleted,) = events(client, reader, "user.deleted", leaver.user_id)
        assert deleted["actor_id"] == leaver.user_id
    for action, who in (
        ("user.email_verified", user),
        ("user.password_reset", user),
        ("user.deleted", leaver),
    ):
        assert events(client, c, action, who.user_id) == []


def test_verifying_by_link_is_recorded(client, app, world, mailbox, run_jobs):
    user, _, b, _ = world
    run_jobs()
    text = mailbox.last_to(user.email).get_body(("plain",)).get_content()
    token = re.search(r"verify-email\?token=([A-Za-z0-9_-]+)", text).group(1)
    assert client.post("/v1/auth/verify-email", json={"token": token}).status_code == 200
    run_jobs()
    for reader in (user, b):
        (entry,) = events(client, reader, "user.email_verified", user.user_id)
        assert entry["after"]["method"] == "link"
        assert entry["actor_id"] == user.user_id


def test_a_refused_or_rolled_back_change_queues_nothing(client, app, world, run_jobs):
    user, _, b, _ = world
    run_jobs()
    before = jobs_queued(app)
    wrong = client.post(
        "/v1/me/password",
        json={"current_password": "not it at all", "new_password": "another fine passphrase"},
        headers=user.headers,
    )
    assert wrong.status_code == 400
    assert jobs_queued(app) == before

    with app.test_request_context():
        # As in a view: the transaction has done its work when the event is recorded.
        db.session.get(Membership, (uuid.UUID(user.account_id), uuid.UUID(user.user_id)))
        record_user_event(
            db.session,
            user_id=uuid.UUID(user.user_id),
            actor=Actor("user", uuid.UUID(user.user_id)),
            action="user.password_changed",
        )
        db.session.rollback()
        db.session.commit()  # a later commit does not resurrect it
    assert jobs_queued(app) == before
    run_jobs()
    for reader in (user, b):
        assert events(client, reader, "user.password_changed", user.user_id) == []


def entries(app, account_id: str, event_id: str) -> list:
    """The rows of one event in one account's log, read straight from its schema."""
    columns = (AuditEntry.actor_id, AuditEntry.actor_ip, AuditEntry.target_id)
    with app.app_context(), tenant_session(registry().get(uuid.UUID(account_id))) as session:
        return session.execute(
            select(*columns).where(AuditEntry.after["event_id"].astext == event_id)
        ).all()


def test_the_job_is_idempotent(client, app, world, run_jobs):
    user, _, b, c = world
    event_id = str(uuid.uuid4())
    actor = {"type": "user", "id": user.user_id, "ip": "10.0.0.5"}
    args = (event_id, user.user_id, "user.mfa_enabled", actor, {"method": "totp"})
    with app.app_context():
        assert write_user_event(*args) == {"written": 2, "skipped": 0}
        assert write_user_event(*args) == {"written": 0, "skipped": 2}
        enqueue(write_user_event, *args)
        enqueue(write_user_event, *args)
    run_jobs()
    for account_id in (user.account_id, b.account_id):
        (entry,) = entries(app, account_id, event_id)
        assert entry.actor_id == uuid.UUID(user.user_id)
        assert entry.actor_ip == "10.0.0.5"
        assert entry.target_id == user.user_id
    assert entries(app, c.account_id, event_id) == []


def test_one_failing_account_does_not_stop_the_others(client, app, world):
    """A (real) broken schema in B: A gets the event, the job raises, a retry fills B in."""
    user, _, b, _ = world
    schema = registry_schema(app, b.account_id)
    event_id = str(uuid.uuid4())
    args = (event_id, user.user_id, "user.deleted", {"type": "user", "id": user.user_id}, {})
    with app.app_context():
        rename(schema, f"{schema}_away")
        try:
            with pytest.raises(UserEventFailed, match=b.account_id):
                write_user_event(*args)
        finally:
            rename(f"{schema}_away", schema)
        assert len(entries(app, user.account_id, event_id)) == 1
        assert entries(app, b.account_id, event_id) == []
        assert write_user_event(*args) == {"written": 1, "skipped": 1}
    assert len(entries(app, user.account_id, event_id)) == 1
    assert len(entries(app, b.account_id, event_id)) == 1


def registry_schema(app, account_id: str) -> str:
    with app.app_context():
        return registry().get(uuid.UUID(account_id)).schema_name


def rename(schema: str, to: str) -> None:
    with db.engine.begin() as conn:
        conn.exec_driver_sql(f'ALTER SCHEMA "{schema}" RENAME TO "{to}"')
