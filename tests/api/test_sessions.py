"""Sessions: refresh-token rotation and theft detection, log-out, revoking devices,
changing the password, and refusing tokens of revoked sessions and deleted users."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import select

from identity.models import User
from identity.sessions import AuthSession, RefreshToken, hash_token
from tenants.db import db, utcnow


def login(client, member, user_agent="TestBrowser/1.0", password=None):
    response = client.post(
        "/v1/auth/login",
        json={"email": member.email, "password": password or member.password},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.json
    assert response.json["mfa_required"] is False
    return response.json


def bearer(tokens):
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def refresh(client, token):
    return client.post("/v1/auth/refresh", json={"refresh_token": token})


def test_login_opens_a_session_with_a_refresh_token_stored_hashed(client, app, account):
    tokens = login(client, account)
    assert tokens["refresh_token"] and tokens["refresh_expires_in"] > 0
    assert client.get("/v1/me/sessions", headers=bearer(tokens)).status_code == 200
    with app.app_context():
        stored = db.session.scalars(
            select(RefreshToken).where(RefreshToken.session_id == uuid.UUID(tokens["session_id"]))
        ).all()
        assert [row.token_hash for row in stored] == [hash_token(tokens["refresh_token"])]
        assert tokens["refresh_token"] not in {row.token_hash for row in stored}
        session = db.session.get(AuthSession, uuid.UUID(tokens["session_id"]))
        assert session.user_id == uuid.UUID(account.user_id)
        assert session.user_agent == "TestBrowser/1.0"


def test_signup_returns_a_session_too(client, account):
    sessions = client.get("/v1/me/sessions", headers=account.headers).json["items"]
    assert len(sessions) == 1 and sessions[0]["current"] is True


def test_refresh_rotates_and_the_old_token_stops_working(client, account):
    first = login(client, account)
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200, second.json
    assert second.json["refresh_token"] != first["refresh_token"]
    assert second.json["session_id"] == first["session_id"]
    assert client.get("/v1/me/sessions", headers=bearer(second.json)).status_code == 200
    third = refresh(client, second.json["refresh_token"])
    assert third.status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_session(client, account):
    first = login(client, account)
    rotated = refresh(client, first["refresh_token"]).json
    # The thief (or the victim) presents the already-used token: both lose the session.
    reused = refresh(client, first["refresh_token"])
    assert reused.status_code == 401
    assert reused.json["code"] == "refresh_token_reused"
    newest = refresh(client, rotated["refresh_token"])
    assert newest.status_code == 401
    assert newest.json["code"] == "session_revoked"
    for tokens in (first, rotated):
        refused = client.get("/v1/me/sessions", headers=bearer(tokens))
        assert refused.status_code == 401
        assert refused.json["code"] == "session_revoked"
    # Other sessions of the same user are untouched.
    assert client.get("/v1/me/sessions", headers=account.headers).status_code == 200


def test_unknown_and_expired_refresh_tokens_are_refused(client, make_app, account):
    unknown = refresh(client, "rt_not-a-real-token")
    assert unknown.status_code == 401
    assert unknown.json["code"] == "invalid_refresh_token"
    short = make_app(refresh_token_ttl=1).test_client()
    tokens = login(short, account)
    time.sleep(1.2)
    expired = refresh(short, tokens["refresh_token"])
    assert expired.status_code == 401
    assert expired.json["code"] == "invalid_refresh_token"


def test_logout_revokes_the_current_session_only(client, account):
    phone, laptop = login(client, account, "Phone"), login(client, account, "Laptop")
    response = client.post("/v1/auth/logout", headers=bearer(phone))
    assert response.status_code == 204
    refused = client.get("/v1/me/sessions", headers=bearer(phone))
    assert (refused.status_code, refused.json["code"]) == (401, "session_revoked")
    assert refresh(client, phone["refresh_token"]).json["code"] == "session_revoked"
    assert client.get("/v1/me/sessions", headers=bearer(laptop)).status_code == 200
    assert refresh(client, laptop["refresh_token"]).status_code == 200


def test_revoked_sessions_are_refused_even_on_tenant_routes(client, account):
    tokens = login(client, account)
    assert client.get(account.url(), headers=bearer(tokens)).status_code == 200
    client.post("/v1/auth/logout", headers=bearer(tokens))
    response = client.get(account.url(), headers=bearer(tokens))
    assert (response.status_code, response.json["code"]) == (401, "session_revoked")


def test_listing_sessions_shows_devices_and_the_current_one(client, account, other_account):
    phone = login(client, account, "Phone/2.0")
    laptop = login(client, account, "Laptop/3.0")
    listed = client.get("/v1/me/sessions", headers=bearer(phone))
    assert listed.status_code == 200
    items = {item["id"]: item for item in listed.json["items"]}
    assert {phone["session_id"], laptop["session_id"]} <= set(items)
    assert items[phone["session_id"]]["current"] is True
    assert items[laptop["session_id"]]["current"] is False
    assert items[laptop["session_id"]]["user_agent"] == "Laptop/3.0"
    assert items[laptop["session_id"]]["ip"] == "127.0.0.1"
    assert {"created_at", "last_used_at"} <= set(items[laptop["session_id"]])
    assert sum(item["current"] for item in items.values()) == 1
    # Another user sees none of them.
    theirs = client.get("/v1/me/sessions", headers=other_account.headers).json["items"]
    assert not {phone["session_id"], laptop["session_id"]} & {item["id"] for item in theirs}


def test_revoking_one_session(client, account, other_account):
    phone, laptop = login(client, account, "Phone"), login(client, account, "Laptop")
    # Somebody else's session is not found, and stays alive.
    foreign = client.delete(
        f"/v1/me/sessions/{laptop['session_id']}", headers=other_account.headers
    )
    assert (foreign.status_code, foreign.json["code"]) == (404, "session_not_found")
    assert client.get("/v1/me/sessions", headers=bearer(laptop)).status_code == 200
    unknown = client.delete(f"/v1/me/sessions/{uuid.uuid4()}", headers=bearer(phone))
    assert unknown.status_code == 404
    response = client.delete(f"/v1/me/sessions/{laptop['session_id']}", headers=bearer(phone))
    assert response.status_code == 204
    assert client.get("/v1/me/sessions", headers=bearer(laptop)).json["code"] == "session_revoked"
    assert refresh(client, laptop["refresh_token"]).status_code == 401
    listed = client.get("/v1/me/sessions", headers=bearer(phone)).json["items"]
    assert laptop["session_id"] not in {item["id"] for item in listed}
    again = client.delete(f"/v1/me/sessions/{laptop['session_id']}", headers=bearer(phone))
    assert again.status_code == 404


def test_revoke_others_keeps_only_the_current_session(client, account, other_account):
    keep, drop = login(client, account, "Keep"), login(client, account, "Drop")
    bystander = login(client, other_account, "Bystander")
    response = client.post("/v1/me/sessions/revoke-others", headers=bearer(keep))
    assert response.status_code == 200
    assert response.json["revoked"] == 2  # the sign-up session and "Drop"
    assert client.get("/v1/me/sessions", headers=bearer(drop)).status_code == 401
    assert client.get("/v1/me/sessions", headers=account.headers).status_code == 401
    assert client.get("/v1/me/sessions", headers=bearer(keep)).status_code == 200
    assert client.get("/v1/me/sessions", headers=bearer(bystander)).status_code == 200
    items = client.get("/v1/me/sessions", headers=bearer(keep)).json["items"]
    assert [item["id"] for item in items] == [keep["session_id"]]


def test_changing_the_password(client, account):
    current, other = login(client, account, "Current"), login(client, account, "Other")
    wrong = client.post(
        "/v1/me/password",
        json={"current_password": "not it", "new_password": "a brand new password"},
        headers=bearer(current),
    )
    assert (wrong.status_code, wrong.json["code"]) == (400, "wrong_password")
    changed = client.post(
        "/v1/me/password",
        json={"current_password": account.password, "new_password": "a brand new password"},
        headers=bearer(current),
    )
    assert changed.status_code == 200, changed.json
    fresh = changed.json
    assert fresh["session_id"] == current["session_id"]
    # The current session continues with the fresh pair; its old access token is refused.
    assert client.get("/v1/me/sessions", headers=bearer(fresh)).status_code == 200
    old = client.get("/v1/me/sessions", headers=bearer(current))
    assert (old.status_code, old.json["code"]) == (401, "password_changed")
    assert refresh(client, current["refresh_token"]).status_code == 401
    assert refresh(client, fresh["refresh_token"]).status_code == 200
    # Every other session is over.
    for tokens in (other, {"access_token": account.token}):
        assert client.get("/v1/me/sessions", headers=bearer(tokens)).status_code == 401
    assert refresh(client, other["refresh_token"]).json["code"] == "session_revoked"
    # Log-in takes the new password only.
    old_login = client.post(
        "/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert old_login.status_code == 401
    assert (
        client.get(
            "/v1/me/sessions",
            headers=bearer(login(client, account, password="a brand new password")),
        ).status_code
        == 200
    )


def test_tokens_issued_before_a_password_reset_are_refused(client, app, account):
    before = login(client, account)
    with app.app_context():
        db.session.get(User, uuid.UUID(account.user_id)).password_changed_at = utcnow()
        db.session.commit()
    refused = client.get("/v1/me/sessions", headers=bearer(before))
    assert (refused.status_code, refused.json["code"]) == (401, "password_changed")
    after = login(client, account)
    assert client.get("/v1/me/sessions", headers=bearer(after)).status_code == 200


def test_tokens_of_deleted_users_are_refused(client, app, account, other_account):
    tokens = login(client, account)
    with app.app_context():
        db.session.get(User, uuid.UUID(account.user_id)).deleted_at = utcnow()
        db.session.commit()
    for url in ("/v1/me/sessions", account.url()):
        refused = client.get(url, headers=bearer(tokens))
        assert (refused.status_code, refused.json["code"]) == (401, "user_deleted")
    assert refresh(client, tokens["refresh_token"]).status_code == 401
    assert client.get("/v1/me/sessions", headers=other_account.headers).status_code == 200


def test_a_revoked_session_is_refused_from_the_database_when_redis_forgot(client, app, account):
    """Redis is the fast path for access tokens; refresh always asks the database."""
    tokens = login(client, account)
    client.post("/v1/auth/logout", headers=bearer(tokens))
    with app.app_context():
        from core.redis import redis_client

        redis_client().delete(f"turumba:revoked-session:{tokens['session_id']}")
    assert refresh(client, tokens["refresh_token"]).json["code"] == "session_revoked"


def test_using_a_session_records_when_it_was_last_used(client, app, account):
    tokens = login(client, account)
    session_id = uuid.UUID(tokens["session_id"])
    long_ago = utcnow().replace(year=2020)
    with app.app_context():
        from core.redis import redis_client

        db.session.get(AuthSession, session_id).last_used_at = long_ago
        db.session.commit()
        redis_client().delete(f"turumba:session-seen:{session_id}")
    items = client.get("/v1/me/sessions", headers=bearer(tokens)).json["items"]
    (mine,) = [item for item in items if item["id"] == tokens["session_id"]]
    assert not mine["last_used_at"].startswith("2020")
