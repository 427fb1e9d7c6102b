"""Brute-force protection on log-in, its MFA step and refresh: per account and per IP,
locks that expire, and success resetting an account's count (real Redis, tiny windows)."""

from __future__ import annotations

import random
import time

import pyotp
import pytest

from identity.throttle import Limit, Locked, Throttle
from tests.conftest import unique_email


def fresh_ip() -> str:
    """A client address of its own, so one test's locks never touch another's."""
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@pytest.fixture
def strict(make_app):
    """An app that locks an account after 3 failures (an IP after 5) for 2 seconds."""
    app = make_app(
        login_max_failures=3, login_ip_max_failures=5, login_failure_window=60, login_lockout=2
    )
    ip = fresh_ip()
    return app.test_client(), {"REMOTE_ADDR": ip}


def attempt(client, environ, email, password, path="/v1/auth/login"):
    return client.post(path, json={"email": email, "password": password}, environ_base=environ)


def test_an_account_is_locked_after_repeated_failures_and_the_lock_expires(strict, account):
    client, environ = strict
    for _ in range(3):
        assert attempt(client, environ, account.email, "wrong password").status_code == 401
    locked = attempt(client, environ, account.email, account.password)  # even the right one
    assert locked.status_code == 429
    assert locked.json["code"] == "too_many_attempts"
    assert 1 <= int(locked.headers["Retry-After"]) <= 2
    # The lock is on the account, from any address.
    elsewhere = attempt(client, {"REMOTE_ADDR": fresh_ip()}, account.email.upper(), "x")
    assert elsewhere.status_code == 429
    time.sleep(2.2)
    assert attempt(client, environ, account.email, account.password).status_code == 200


def test_success_resets_the_account_count(strict, account):
    client, environ = strict
    for _ in range(2):
        assert attempt(client, environ, account.email, "wrong password").status_code == 401
    assert attempt(client, environ, account.email, account.password).status_code == 200
    for _ in range(2):
        assert attempt(client, environ, account.email, "wrong password").status_code == 401
    assert attempt(client, environ, account.email, account.password).status_code == 200


def test_locking_one_account_leaves_others_alone(strict, account, other_account):
    client, environ = strict
    for _ in range(3):
        attempt(client, environ, account.email, "wrong password")
    assert attempt(client, environ, account.email, account.password).status_code == 429
    ok = attempt(client, environ, other_account.email, other_account.password)
    assert ok.status_code == 200


def test_an_ip_spraying_many_accounts_is_locked(strict, account):
    client, environ = strict
    for _ in range(5):  # one failure each on five (unknown) accounts
        assert attempt(client, environ, unique_email(), "guess").status_code == 401
    locked = attempt(client, environ, account.email, account.password)
    assert (locked.status_code, locked.json["code"]) == (429, "too_many_attempts")
    # Another address is not affected.
    other = attempt(client, {"REMOTE_ADDR": fresh_ip()}, account.email, account.password)
    assert other.status_code == 200


def test_refresh_guessing_is_locked_per_ip(strict, account):
    client, environ = strict
    tokens = attempt(client, environ, account.email, account.password).json
    for _ in range(5):
        response = client.post(
            "/v1/auth/refresh", json={"refresh_token": "rt_guess"}, environ_base=environ
        )
        assert response.status_code == 401
    locked = client.post(
        "/v1/auth/refresh",
        json={"refresh_token": tokens["refresh_token"]},
        environ_base=environ,
    )
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    elsewhere = client.post(
        "/v1/auth/refresh",
        json={"refresh_token": tokens["refresh_token"]},
        environ_base={"REMOTE_ADDR": fresh_ip()},
    )
    assert elsewhere.status_code == 200


def test_mfa_code_guessing_locks_the_account(strict, client, account):
    started = client.post("/v1/me/mfa/totp", headers=account.headers).json
    totp = pyotp.TOTP(started["secret"])
    client.post("/v1/me/mfa/totp/confirm", json={"code": totp.now()}, headers=account.headers)
    app_client, environ = strict

    def mfa_token():
        step = attempt(app_client, environ, account.email, account.password)
        assert step.json["mfa_required"] is True
        return step.json["mfa_token"]

    token = mfa_token()
    wrong = [c for c in ("111111", "222222", "333333", "444444") if c != totp.now()]
    for guess in wrong[:3]:
        response = app_client.post(
            "/v1/auth/login/mfa", json={"mfa_token": token, "code": guess}, environ_base=environ
        )
        assert response.status_code == 401
    locked = app_client.post(
        "/v1/auth/login/mfa",
        json={"mfa_token": token, "code": totp.at(time.time() + 30)},
        environ_base=environ,
    )
    assert (locked.status_code, locked.json["code"]) == (429, "too_many_attempts")
    # The password step is locked too (same account identifier).
    assert attempt(app_client, environ, account.email, account.password).status_code == 429


def test_the_throttle_helper_directly(app):
    """The reusable helper (e.g. for password-reset tokens): counting, locking, unlocking."""
    with app.app_context():
        from core.redis import redis_client

        throttle = Throttle(
            redis_client(), "test-helper", {"account": Limit(2, 60, 30), "ip": Limit(10, 60, 30)}
        )
        who = unique_email()
        throttle.check(account=who, ip="10.0.0.1")
        throttle.failure(account=who, ip="10.0.0.1")
        throttle.check(account=who)
        throttle.failure(account=who)
        with pytest.raises(Locked) as locked:
            throttle.check(account=who, ip="10.0.0.1")
        assert locked.value.kind == "account" and 1 <= locked.value.retry_after <= 30
        throttle.check(account=unique_email(), ip="10.0.0.1")  # others unaffected
        throttle.unlock(account=who)
        throttle.check(account=who)
        with pytest.raises(ValueError):
            throttle.check(device="x")


def test_refresh_failures_on_one_users_sessions_lock_that_user(strict, account, other_account):
    client, environ = strict
    stolen = attempt(client, environ, account.email, account.password).json
    client.post("/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]})
    for _ in range(3):  # replaying the rotated token: reuse, then a revoked session
        replay = client.post(
            "/v1/auth/refresh",
            json={"refresh_token": stolen["refresh_token"]},
            environ_base={"REMOTE_ADDR": fresh_ip()},
        )
        assert replay.status_code == 401
    other_device = attempt(client, {"REMOTE_ADDR": fresh_ip()}, account.email, account.password)
    environ2 = {"REMOTE_ADDR": fresh_ip()}
    locked = client.post(
        "/v1/auth/refresh",
        json={"refresh_token": other_device.json["refresh_token"]},
        environ_base=environ2,
    )
    assert (locked.status_code, locked.json["code"]) == (429, "too_many_attempts")
    bystander = attempt(client, environ2, other_account.email, other_account.password).json
    assert (
        client.post(
            "/v1/auth/refresh",
            json={"refresh_token": bystander["refresh_token"]},
            environ_base=environ2,
        ).status_code
        == 200
    )
    time.sleep(2.2)  # the lock expires; the refused token was not spent
    after = client.post(
        "/v1/auth/refresh",
        json={"refresh_token": other_device.json["refresh_token"]},
        environ_base=environ2,
    )
    assert after.status_code == 200
