"""TOTP multi-factor authentication: enrolment, the two-step log-in, recovery codes,
disabling, and refusing replayed codes."""

from __future__ import annotations

import time
import uuid

import pyotp
from sqlalchemy import select

from identity.mfa import RecoveryCode
from tenants.db import db


def code_at(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


def enrol(client, member) -> tuple[str, list[str]]:
    """Enable MFA for ``member``; the secret and the recovery codes."""
    started = client.post("/v1/me/mfa/totp", headers=member.headers)
    assert started.status_code == 201, started.json
    secret = started.json["secret"]
    confirmed = client.post(
        "/v1/me/mfa/totp/confirm", json={"code": code_at(secret)}, headers=member.headers
    )
    assert confirmed.status_code == 200, confirmed.json
    return secret, confirmed.json["recovery_codes"]


def password_step(client, member):
    response = client.post(
        "/v1/auth/login", json={"email": member.email, "password": member.password}
    )
    assert response.status_code == 200, response.json
    return response.json


def test_enrolment_returns_secret_uri_and_qr_and_needs_confirmation(client, account):
    started = client.post("/v1/me/mfa/totp", headers=account.headers)
    assert started.status_code == 201
    body = started.json
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert body["secret"] in body["otpauth_uri"] and "issuer=Turumba" in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg") and body["qr_svg"].rstrip().endswith("</svg>")
    # Not confirmed yet: log-in is still one step.
    assert password_step(client, account)["mfa_required"] is False
    wrong = client.post("/v1/me/mfa/totp/confirm", json={"code": "000000"}, headers=account.headers)
    if wrong.status_code != 400:  # 1 in a million: 000000 is the current code
        return
    assert wrong.json["code"] == "invalid_mfa_code"
    malformed = client.post(
        "/v1/me/mfa/totp/confirm", json={"code": "12ab"}, headers=account.headers
    )
    assert malformed.status_code == 422
    confirmed = client.post(
        "/v1/me/mfa/totp/confirm", json={"code": code_at(body["secret"])}, headers=account.headers
    )
    assert confirmed.status_code == 200
    codes = confirmed.json["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    again = client.post("/v1/me/mfa/totp", headers=account.headers)
    assert (again.status_code, again.json["code"]) == (409, "mfa_already_enabled")


def test_confirming_without_enrolling_is_a_conflict(client, account):
    response = client.post(
        "/v1/me/mfa/totp/confirm", json={"code": "123456"}, headers=account.headers
    )
    assert (response.status_code, response.json["code"]) == (409, "mfa_not_enrolled")


def test_recovery_codes_are_stored_hashed(client, app, account):
    _, codes = enrol(client, account)
    with app.app_context():
        hashes = db.session.scalars(
            select(RecoveryCode.code_hash).where(RecoveryCode.user_id == uuid.UUID(account.user_id))
        ).all()
    assert len(hashes) == 10
    assert not set(codes) & set(hashes)


def test_log_in_with_mfa_takes_two_steps(client, account, other_account):
    secret, _ = enrol(client, account)
    step = password_step(client, account)
    assert step["mfa_required"] is True and step["mfa_token"]
    assert "access_token" not in step and "refresh_token" not in step
    # The MFA token is no access token.
    refused = client.get(
        "/v1/me/sessions", headers={"Authorization": f"Bearer {step['mfa_token']}"}
    )
    assert refused.status_code == 401
    # The next step's code: the confirmation spent the current one.
    done = client.post(
        "/v1/auth/login/mfa", json={"mfa_token": step["mfa_token"], "code": code_at(secret, 1)}
    )
    assert done.status_code == 200, done.json
    headers = {"Authorization": f"Bearer {done.json['access_token']}"}
    mine = client.get("/v1/me/sessions", headers=headers).json["items"]
    assert [s["id"] for s in mine if s["current"]] == [done.json["session_id"]]
    assert done.json["refresh_token"]
    # The MFA token works once.
    again = client.post(
        "/v1/auth/login/mfa", json={"mfa_token": step["mfa_token"], "code": code_at(secret, 1)}
    )
    assert again.status_code == 401
    # A user without MFA still logs in in one step.
    assert password_step(client, other_account)["mfa_required"] is False


def test_a_totp_code_cannot_be_replayed(client, account):
    secret, _ = enrol(client, account)
    current = code_at(secret)  # spent by the confirmation
    replay = client.post(
        "/v1/auth/login/mfa",
        json={"mfa_token": password_step(client, account)["mfa_token"], "code": current},
    )
    assert (replay.status_code, replay.json["code"]) == (401, "invalid_mfa_code")
    later = code_at(secret, 1)
    first = client.post(
        "/v1/auth/login/mfa",
        json={"mfa_token": password_step(client, account)["mfa_token"], "code": later},
    )
    assert first.status_code == 200
    second = client.post(
        "/v1/auth/login/mfa",
        json={"mfa_token": password_step(client, account)["mfa_token"], "code": later},
    )
    assert (second.status_code, second.json["code"]) == (401, "invalid_mfa_code")


def test_a_recovery_code_works_once(client, account):
    _, codes = enrol(client, account)
    login = client.post(
        "/v1/auth/login/mfa",
        json={
            "mfa_token": password_step(client, account)["mfa_token"],
            "recovery_code": codes[0].upper().replace("-", " "),  # forgiving about format
        },
    )
    assert login.status_code == 200, login.json
    again = client.post(
        "/v1/auth/login/mfa",
        json={"mfa_token": password_step(client, account)["mfa_token"], "recovery_code": codes[0]},
    )
    assert (again.status_code, again.json["code"]) == (401, "invalid_mfa_code")
    other = client.post(
        "/v1/auth/login/mfa",
        json={"mfa_token": password_step(client, account)["mfa_token"], "recovery_code": codes[1]},
    )
    assert other.status_code == 200


def test_another_users_recovery_code_does_not_work(client, account, other_account):
    enrol(client, account)
    _, theirs = enrol(client, other_account)
    response = client.post(
        "/v1/auth/login/mfa",
        json={"mfa_token": password_step(client, account)["mfa_token"], "recovery_code": theirs[0]},
    )
    assert response.status_code == 401


def test_the_mfa_step_needs_exactly_one_factor_and_a_valid_token(client, account):
    secret, _ = enrol(client, account)
    token = password_step(client, account)["mfa_token"]
    neither = client.post("/v1/auth/login/mfa", json={"mfa_token": token})
    assert neither.status_code == 422
    both = client.post(
        "/v1/auth/login/mfa",
        json={"mfa_token": token, "code": code_at(secret, 1), "recovery_code": "x"},
    )
    assert both.status_code == 422
    forged = client.post(
        "/v1/auth/login/mfa", json={"mfa_token": account.token, "code": code_at(secret, 1)}
    )
    assert (forged.status_code, forged.json["code"]) == (401, "invalid_mfa_token")


def test_the_mfa_token_expires(client, make_app, account):
    secret, _ = enrol(client, account)
    short = make_app(mfa_token_ttl=1).test_client()
    token = password_step(short, account)["mfa_token"]
    time.sleep(2.1)
    response = short.post(
        "/v1/auth/login/mfa", json={"mfa_token": token, "code": code_at(secret, 1)}
    )
    assert (response.status_code, response.json["code"]) == (401, "invalid_mfa_token")


def test_regenerating_recovery_codes_invalidates_the_old_ones(client, account):
    secret, old = enrol(client, account)
    wrong = client.post(
        "/v1/me/mfa/recovery-codes", json={"recovery_code": "nope-nope"}, headers=account.headers
    )
    assert (wrong.status_code, wrong.json["code"]) == (400, "invalid_mfa_code")
    response = client.post(
        "/v1/me/mfa/recovery-codes", json={"code": code_at(secret, 1)}, headers=account.headers
    )
    assert response.status_code == 200
    new = response.json["recovery_codes"]
    assert len(new) == 10 and not set(new) & set(old)
    stale = client.post(
        "/v1/auth/login/mfa",
        json={"mfa_token": password_step(client, account)["mfa_token"], "recovery_code": old[2]},
    )
    assert stale.status_code == 401
    status = client.get("/v1/me/mfa", headers=account.headers).json
    assert status["enabled"] is True and status["recovery_codes_remaining"] == 10
    fresh = client.post(
        "/v1/auth/login/mfa",
        json={"mfa_token": password_step(client, account)["mfa_token"], "recovery_code": new[2]},
    )
    assert fresh.status_code == 200


def test_disabling_mfa_needs_a_code(client, account):
    _, codes = enrol(client, account)
    refused = client.delete("/v1/me/mfa?recovery_code=wrong-code", headers=account.headers)
    assert (refused.status_code, refused.json["code"]) == (400, "invalid_mfa_code")
    missing = client.delete("/v1/me/mfa", headers=account.headers)
    assert missing.status_code == 422
    assert password_step(client, account)["mfa_required"] is True
    response = client.delete(f"/v1/me/mfa?recovery_code={codes[0]}", headers=account.headers)
    assert response.status_code == 204
    assert password_step(client, account)["mfa_required"] is False
    status = client.get("/v1/me/mfa", headers=account.headers).json
    assert status == {"enabled": False, "enabled_at": None, "recovery_codes_remaining": 0}
    again = client.delete(f"/v1/me/mfa?recovery_code={codes[1]}", headers=account.headers)
    assert (again.status_code, again.json["code"]) == (409, "mfa_not_enabled")
    # Enrolling again starts from scratch, with a new secret.
    secret, _ = enrol(client, account)
    assert password_step(client, account)["mfa_required"] is True
    assert secret


def test_mfa_of_one_user_does_not_affect_another(client, account, agent):
    enrol(client, account)
    assert password_step(client, agent)["mfa_required"] is False
    # The agent cannot disable the owner's MFA: the endpoint only ever acts on the caller.
    response = client.delete("/v1/me/mfa?code=123456", headers=agent.headers)
    assert (response.status_code, response.json["code"]) == (409, "mfa_not_enabled")
    assert password_step(client, account)["mfa_required"] is True
