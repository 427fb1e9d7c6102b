"""A socket lives no longer than its access token: the server asks for a new one ahead of
the expiry (``auth.expiring``), keeps a connection that answers ``auth.refresh`` with a
fresh token of the same user, and cuts off one that does not (``auth.expired``). A token
of a signed-out session is refused at the door.

The short-lived tokens come from a web process of their own that issues them with a TTL
of a few seconds (well inside the server's one-minute warning, so it warns at once); the
fresh token comes from the regular deployment's refresh endpoint, which signs with the
same key, so it differs only by living 15 minutes.
"""

from __future__ import annotations

import json
import time
import urllib.request

import jwt
import pytest

from tests.api.test_conversations import setup_desk
from tests.api.test_inbox import make
from tests.live import WebProcess

#: Seconds the short-lived process's access tokens live: long enough to log in and
#: connect, short enough that the test waits for their expiry.
TTL = 5


@pytest.fixture(scope="module")
def short_lived(app, config):
    """A web process whose access tokens expire after :data:`TTL` seconds."""
    process = WebProcess(config, TURUMBA_ACCESS_TOKEN_TTL=str(TTL))
    yield process
    process.stop()


def log_in(url: str, member) -> dict:
    """The token pair a real web process hands ``member`` for a password log-in."""
    request = urllib.request.Request(
        f"{url}/v1/auth/login",
        data=json.dumps({"email": member.email, "password": member.password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def expiry(token: str) -> int:
    return jwt.decode(token, options={"verify_signature": False})["exp"]


def wait_until(moment: float) -> None:
    while time.time() < moment:
        time.sleep(0.1)


def test_a_connection_that_refreshes_its_token_outlives_it_and_one_that_does_not_is_cut_off(
    client, settle, short_lived, listener, account
):
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    keeping, lapsing = log_in(short_lived.url, account), log_in(short_lived.url, account)
    keeper = listener().connect(short_lived.url, account, token=keeping["access_token"])
    lapser = listener().connect(short_lived.url, account, token=lapsing["access_token"])
    old_expiry = expiry(keeping["access_token"])

    (warning,) = keeper.wait_for("auth.expiring")
    assert warning == {"expires_at": old_expiry}
    assert lapser.wait_for("auth.expiring") == [{"expires_at": expiry(lapsing["access_token"])}]

    renewed = client.post("/v1/auth/refresh", json={"refresh_token": keeping["refresh_token"]})
    assert renewed.status_code == 200, renewed.json
    fresh = renewed.json["access_token"]
    assert keeper.call("auth.refresh", {"token": fresh}) == {
        "ok": True,
        "expires_at": expiry(fresh),
    }

    # The one that did not answer is told why, then cut off, at its token's expiry.
    assert lapser.wait_for("auth.expired", timeout=TTL + 10) == [{"code": "token_expired"}]
    assert time.time() >= expiry(lapsing["access_token"])
    lapser.wait_dropped()

    # Past the old token's expiry (and the watcher's half-second tick), the refreshed
    # connection is still open and still hears the account's pushes.
    wait_until(old_expiry + 1.5)
    client.patch(
        account.url(f"/conversations/{conversation_id}"),
        json={"priority": "urgent"},
        headers=account.headers,
    )
    settle()
    (push,) = keeper.wait_for("conversation.updated")
    assert push["data"]["conversation"]["priority"] == "urgent"
    assert keeper.client.connected and not keeper.dropped
    assert keeper.named("auth.expired") == []
    assert lapser.named("conversation.updated") == []


def test_a_refresh_with_a_token_that_is_not_a_valid_one_of_the_same_user_changes_nothing(
    short_lived, listener, account, agent
):
    short = log_in(short_lived.url, account)["access_token"]
    ours = listener().connect(short_lived.url, account, token=short)
    ours.wait_for("auth.expiring")

    # A colleague's perfectly valid token is not this connection's to take.
    for foreign in (agent.token, "not-a-token"):
        refused = ours.call("auth.refresh", {"token": foreign})
        assert (refused["ok"], refused["code"]) == (False, "invalid_token")
    for garbage in ({"token": ""}, {}, "a string"):
        assert ours.call("auth.refresh", garbage)["ok"] is False

    # Nothing changed: the original expiry still ends the connection.
    assert ours.wait_for("auth.expired", timeout=TTL + 10) == [{"code": "token_expired"}]
    assert time.time() >= expiry(short)
    ours.wait_dropped()


def test_a_refresh_with_a_token_of_a_signed_out_session_is_refused(
    client, short_lived, listener, account
):
    short = log_in(short_lived.url, account)["access_token"]
    ours = listener().connect(short_lived.url, account, token=short)
    ours.wait_for("auth.expiring")
    elsewhere = client.post(
        "/v1/auth/login", json={"email": account.email, "password": account.password}
    ).json
    signed_out = client.post(
        "/v1/auth/logout", headers={"Authorization": f"Bearer {elsewhere['access_token']}"}
    )
    assert signed_out.status_code == 204

    answer = ours.call("auth.refresh", {"token": elsewhere["access_token"]})
    assert answer["ok"] is False and answer["code"] == "session_revoked"
    assert ours.wait_for("auth.expired", timeout=TTL + 10) == [{"code": "token_expired"}]


def test_a_token_of_a_signed_out_session_is_refused_at_connect(client, web, listener, account):
    assert client.post("/v1/auth/logout", headers=account.headers).status_code == 204
    assert listener().refused(web[0].url, account)["code"] == "session_revoked"


def test_a_token_of_a_session_revoked_from_another_device_is_refused_at_connect(
    client, web, listener, account
):
    elsewhere = client.post(
        "/v1/auth/login", json={"email": account.email, "password": account.password}
    ).json
    revoked = client.delete(f"/v1/me/sessions/{elsewhere['session_id']}", headers=account.headers)
    assert revoked.status_code == 204, revoked.json
    refusal = listener().refused(web[0].url, account, token=elsewhere["access_token"])
    assert refusal["code"] == "session_revoked"
    # The session that revoked it still connects.
    assert listener().connect(web[0].url, account).client.connected
