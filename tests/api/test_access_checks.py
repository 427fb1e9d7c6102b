"""Entering an account with an access token: every check still holds on the fast path.

The tenant routes read the session's Redis marks and the registry's generation in one
pipeline, the user's state in the request's own tenant transaction, and remember verified
token signatures; none of that may let through what the slow path refused.
"""

from __future__ import annotations

import time
import uuid

from core.redis import redis_client
from identity.models import User
from identity.sessions import SEEN_KEY, AuthSession
from identity.tokens import TokenIssuer
from tenants.db import db, utcnow


def login(client, member) -> dict:
    response = client.post(
        "/v1/auth/login", json={"email": member.email, "password": member.password}
    )
    assert response.status_code == 200, response.json
    return response.json


def bearer(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def refusal(response) -> tuple[int, str]:
    return response.status_code, response.json["code"]


def test_a_token_verified_once_is_still_refused_once_it_expires(client, config, account):
    issuer = TokenIssuer(
        config.jwt_private_key, key_id=config.jwt_key_id, issuer=config.jwt_issuer, ttl=2
    )
    token, _ = issuer.issue(uuid.UUID(account.user_id))
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(account.url("/contacts"), headers=headers).status_code == 200
    time.sleep(2.1)
    assert refusal(client.get(account.url("/contacts"), headers=headers)) == (
        401,
        "invalid_token",
    )


def test_a_password_change_refuses_older_tokens_inside_an_account(client, app, account):
    tokens = login(client, account)
    assert client.get(account.url("/contacts"), headers=bearer(tokens)).status_code == 200
    with app.app_context():
        db.session.get(User, uuid.UUID(account.user_id)).password_changed_at = utcnow()
        db.session.commit()
    refused = client.get(account.url("/contacts"), headers=bearer(tokens))
    assert refusal(refused) == (401, "password_changed")
    fresh = login(client, account)
    assert client.get(account.url("/contacts"), headers=bearer(fresh)).status_code == 200


def test_a_refused_token_answers_401_before_any_account_answers_404(
    client, app, account, other_account
):
    tokens = login(client, account)
    client.post("/v1/auth/logout", headers=bearer(tokens))
    for url in (f"/v1/accounts/{uuid.uuid4()}/contacts", other_account.url("/contacts")):
        assert refusal(client.get(url, headers=bearer(tokens))) == (401, "session_revoked")

    live = login(client, other_account)
    with app.app_context():
        db.session.get(User, uuid.UUID(other_account.user_id)).deleted_at = utcnow()
        db.session.commit()
    for url in (f"/v1/accounts/{uuid.uuid4()}/contacts", account.url("/contacts")):
        assert refusal(client.get(url, headers=bearer(live))) == (401, "user_deleted")


def test_working_inside_an_account_records_when_the_session_was_last_used(client, app, account):
    tokens = login(client, account)
    session_id = uuid.UUID(tokens["session_id"])
    long_ago = utcnow().replace(year=2020)
    with app.app_context():
        db.session.get(AuthSession, session_id).last_used_at = long_ago
        db.session.commit()
        redis_client().delete(SEEN_KEY.format(session_id))
    assert client.get(account.url("/contacts"), headers=bearer(tokens)).status_code == 200
    with app.app_context():
        assert db.session.get(AuthSession, session_id).last_used_at > long_ago
        # Marked seen: the next minute's requests write nothing.
        assert redis_client().exists(SEEN_KEY.format(session_id))
