"""An open socket keeps being checked as a connect is: a member removed from the
account, or a session signed out elsewhere, is cut off (``auth.revoked``) without waiting
for the token to expire; an agent added to a team starts hearing its conversations."""

from __future__ import annotations

import dataclasses
import itertools
import time

import pytest

from tests.api.test_conversations import setup_desk
from tests.api.test_inbox import make
from tests.live import WebProcess
from tests.realtime.test_rooms import patch, team_with


@pytest.fixture(scope="module")
def watchful(app, config):
    """A web process that checks its sockets again every second."""
    process = WebProcess(config, TURUMBA_SOCKET_RECHECK="1")
    yield process
    process.stop()


def test_a_member_removed_from_the_account_is_disconnected(
    client, watchful, listener, account, agent
):
    removed = listener().connect(watchful.url, agent)
    staying = listener().connect(watchful.url, account)
    gone = client.delete(account.url(f"/members/{agent.user_id}"), headers=account.headers)
    assert gone.status_code == 204, gone.json
    (revoked,) = removed.wait_for("auth.revoked")
    assert revoked["code"] == "account_not_found"
    removed.wait_dropped()
    assert staying.client.connected and staying.named("auth.revoked") == []


def test_a_session_signed_out_elsewhere_is_disconnected(client, watchful, listener, account):
    login = client.post(
        "/v1/auth/login", json={"email": account.email, "password": account.password}
    )
    assert login.status_code == 200, login.json
    laptop = dataclasses.replace(account, token=login.json["access_token"])
    tab = listener().connect(watchful.url, laptop)
    signed_out = client.post("/v1/me/sessions/revoke-others", headers=account.headers)
    assert signed_out.status_code in (200, 204), signed_out.json
    (revoked,) = tab.wait_for("auth.revoked")
    assert revoked["code"] == "session_revoked"
    tab.wait_dropped()
    # Nor can it come back with the same token.
    refusal = listener().refused(watchful.url, laptop)
    assert refusal["code"] == "session_revoked"


def test_an_agent_added_to_a_team_hears_its_conversations_without_reconnecting(
    client, settle, watchful, listener, account, agent
):
    tier1 = team_with(client, account, "Tier 1")
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id, team_id=tier1)
    own = listener().connect(watchful.url, agent, scope="mine")
    patch(client, account, conversation_id, priority="low")
    settle()
    time.sleep(0.5)
    assert own.named("conversation.updated") == []  # not their team's, yet
    added = client.post(
        account.url(f"/teams/{tier1}/members"),
        json={"user_id": agent.user_id},
        headers=account.headers,
    )
    assert added.status_code in (200, 201), added.json
    priorities = itertools.cycle(["high", "low"])
    deadline = time.monotonic() + 10
    while not own.named("conversation.updated") and time.monotonic() < deadline:
        patch(client, account, conversation_id, priority=next(priorities))
        settle()
        time.sleep(0.3)  # the next check is at most a second away
    (heard, *_) = own.wait_for("conversation.updated")
    assert heard["data"]["conversation"]["id"] == conversation_id
