"""Every error, whatever raised it, is the same JSON envelope with the request id."""

from __future__ import annotations

import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api.errors import fail
from identity.tokens import TokenIssuer
from provisioning.accounts import change_status
from tenants.db import db
from tenants.models import Account, AccountStatus

ENVELOPE_KEYS = {"code", "message", "status", "errors", "request_id"}


def assert_envelope(response, status: int, code: str | None = None) -> dict:
    """The response is a JSON error envelope for ``status``; returns the body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert not text.lstrip().startswith("<"), text
    body = response.get_json()
    assert isinstance(body, dict)
    assert set(body) <= ENVELOPE_KEYS, body
    assert body["status"] == status
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    if "errors" in body:
        assert isinstance(body["errors"], dict) and body["errors"]
    if code is not None:
        assert body["code"] == code
    return body


def login(client, email="nobody@example.test", password="wrong password", **kwargs):
    return client.post("/v1/auth/login", json={"email": email, "password": password}, **kwargs)


# 400


def test_malformed_json_body_is_400_invalid_json(client):
    response = client.post(
        "/v1/auth/login", data='{"email": "a@b.c", ', content_type="application/json"
    )
    body = assert_envelope(response, 400, "invalid_json")
    assert "json" not in body.get("errors", {})


def test_a_bad_filter_is_400(client, account):
    response = client.get(
        account.url("/contacts"), query_string={"filter": "name"}, headers=account.headers
    )
    assert_envelope(response, 400, "invalid_filter")


# 401


def test_no_token_is_401_with_a_bearer_challenge(client, account):
    response = client.get(account.url("/contacts"))
    assert_envelope(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_non_bearer_authorization_header_is_401(client, account):
    response = client.get("/v1/me/context", headers={"Authorization": f"Token {account.token}"})
    assert_envelope(response, 401, "unauthenticated")


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."])
def test_a_garbage_token_is_401(client, token):
    response = client.get("/v1/me/context", headers={"Authorization": f"Bearer {token}"})
    assert_envelope(response, 401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_an_expired_token_is_401(client, config, account):
    issuer = TokenIssuer(
        config.jwt_private_key, key_id=config.jwt_key_id, issuer=config.jwt_issuer, ttl=-60
    )
    expired, _ = issuer.issue(uuid.UUID(account.user_id))
    headers = {"Authorization": f"Bearer {expired}"}
    assert_envelope(client.get("/v1/me/context", headers=headers), 401, "invalid_token")
    # The same user with a live token gets in: it was the expiry that was refused.
    assert client.get("/v1/me/context", headers=account.headers).status_code == 200


def test_a_token_signed_by_another_key_is_401(client, config, account):
    foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = foreign_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    issuer = TokenIssuer(pem, key_id=config.jwt_key_id, issuer=config.jwt_issuer, ttl=600)
    forged, _ = issuer.issue(uuid.UUID(account.user_id))
    response = client.get(account.url(), headers={"Authorization": f"Bearer {forged}"})
    assert_envelope(response, 401, "invalid_token")


def test_wrong_credentials_are_401(client, account):
    assert_envelope(login(client, account.email, "not the password"), 401, "invalid_credentials")


# 403


def test_a_suspended_account_is_403_to_its_members(app, client, account):
    assert client.get(account.url("/contacts"), headers=account.headers).status_code == 200
    with app.app_context():
        row = db.session.get(Account, uuid.UUID(account.account_id))
        change_status(db.session, row, AccountStatus.SUSPENDED)
        db.session.commit()
    response = client.get(account.url("/contacts"), headers=account.headers)
    assert_envelope(response, 403, "account_suspended")


# 404


@pytest.mark.parametrize("path", ["/v1/nope", "/v1/accounts/not-a-uuid", "/health/nope"])
def test_an_unknown_route_is_a_json_404(client, path):
    assert_envelope(client.get(path, headers={"Accept": "text/html"}), 404, "not_found")


def test_an_unknown_account_and_somebody_elses_look_the_same(client, account, other_account):
    unknown = client.get(f"/v1/accounts/{uuid.uuid4()}", headers=account.headers)
    foreign = client.get(other_account.url(), headers=account.headers)
    first = assert_envelope(unknown, 404, "account_not_found")
    second = assert_envelope(foreign, 404, "account_not_found")
    assert (first["message"], first.get("errors")) == (second["message"], second.get("errors"))


# 405


def test_a_wrong_method_is_405_with_allow(client, account):
    response = client.get("/v1/auth/login")
    assert_envelope(response, 405, "method_not_allowed")
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "POST" in allowed and "GET" not in allowed

    response = client.put(account.url(f"/contacts/{uuid.uuid4()}"), headers=account.headers)
    assert_envelope(response, 405)
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "PATCH", "DELETE"} <= allowed
    assert "PUT" not in allowed and "POST" not in allowed


# 409


def test_a_duplicate_sign_up_is_409(client, account):
    response = client.post(
        "/v1/auth/signup",
        json={
            "email": account.email,
            "password": "another good password",
            "name": "Twin",
            "account_name": "Twin Co",
        },
    )
    body = assert_envelope(response, 409, "email_taken")
    assert set(body["errors"]) == {"email"}


# 413


def test_a_body_over_the_limit_is_413(make_app):
    client = make_app(max_content_length=100).test_client()
    small = login(client)
    assert small.status_code == 401  # under the limit the request is handled normally
    response = login(client, email="x" * 200 + "@example.test")
    assert_envelope(response, 413, "payload_too_large")


# 415


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": '{"email": "a@b.c", "password": "x"}', "content_type": "text/plain"},
        {"data": {"email": "a@b.c", "password": "x"}},  # form-encoded
        {"data": "email=a@b.c", "content_type": "application/x-www-form-urlencoded"},
    ],
    ids=["text-plain", "form", "urlencoded"],
)
def test_a_non_json_body_is_415(client, kwargs):
    assert_envelope(client.post("/v1/auth/login", **kwargs), 415, "unsupported_media_type")


def test_415_also_guards_tenant_writes(client, account):
    response = client.post(
        account.url("/contacts"),
        data="name=Ada",
        headers=account.headers,
        content_type="application/x-www-form-urlencoded",
    )
    assert_envelope(response, 415)
    listed = client.get(account.url("/contacts"), headers=account.headers).json
    assert listed["meta"]["total"] == 0


# 422


def test_invalid_fields_are_422_keyed_by_field(client):
    response = client.post(
        "/v1/auth/signup",
        json={"email": "not-an-email", "password": "short", "name": "", "surprise": 1},
    )
    body = assert_envelope(response, 422, "validation_failed")
    errors = body["errors"]
    assert "json" not in errors
    assert {"email", "password", "name", "account_name", "surprise"} <= set(errors)
    assert all(isinstance(messages, list) and messages for messages in errors.values())


def test_a_json_body_that_is_not_an_object_is_422(client):
    response = client.post("/v1/auth/login", json=["a", "b"])
    body = assert_envelope(response, 422, "validation_failed")
    assert "json" not in body["errors"]


def test_invalid_query_arguments_are_422_keyed_by_argument(client, account):
    response = client.get(
        account.url("/contacts"), query_string={"page": "zero"}, headers=account.headers
    )
    body = assert_envelope(response, 422, "validation_failed")
    assert set(body["errors"]) == {"page"}


# 429


def random_address() -> dict[str, str]:
    """A caller address no other test uses, so counters in the shared Redis start at 0."""
    a, b, c = uuid.uuid4().bytes[:3]
    return {"REMOTE_ADDR": f"10.{a}.{b}.{c}"}


def test_too_many_log_ins_are_429_with_retry_after(make_app):
    client = make_app(auth_rate_limit=2, auth_rate_window=3600).test_client()
    caller, other = random_address(), random_address()
    assert login(client, environ_base=caller).status_code == 401
    assert login(client, environ_base=caller).status_code == 401
    response = login(client, environ_base=caller)
    assert_envelope(response, 429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    # Another caller is not throttled by this one's attempts.
    assert login(client, environ_base=other).status_code == 401


# 500


@pytest.fixture
def boom_app(make_app):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("database password is hunter2")

    return app


def test_an_unhandled_exception_is_a_generic_500(boom_app):
    response = boom_app.test_client().get("/boom", headers={"X-Request-ID": "boom-1"})
    body = assert_envelope(response, 500, "internal_error")
    assert body["request_id"] == "boom-1"
    text = response.get_data(as_text=True)
    for leak in ("hunter2", "RuntimeError", "Traceback", "boom()", ".py"):
        assert leak not in text
    assert "request id" in body["message"]


def test_an_explicit_500_message_is_not_shown_either(make_app):
    app = make_app()

    @app.get("/explicit")
    def explicit():
        fail(500, message="cannot reach 10.0.0.3:5432", errors={"dsn": ["admin@10.0.0.3"]})

    response = app.test_client().get("/explicit")
    body = assert_envelope(response, 500)
    assert "10.0.0.3" not in response.get_data(as_text=True)
    assert "errors" not in body
    assert "request id" in body["message"]
