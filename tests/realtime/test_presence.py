"""Presence: an agent is online while any of their console tabs is, away when all of them
are idle, offline once the last one has been closed for the grace period; everyone in
the account (and no one else) hears it, and automatic assignment follows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from events.timers import fire_due
from tests.api.test_assignment import desk
from tests.api.test_conversations import setup_desk
from tests.api.test_inbox import make


def status_of(client, owner, member) -> str:
    agents = client.get(owner.url("/agents"), headers=owner.headers)
    assert agents.status_code == 200, agents.json
    (found,) = [a for a in agents.json["items"] if a["user_id"] == member.user_id]
    return found["status"]


def presence_of(listener, member) -> list[str]:
    """The statuses ``listener`` heard ``member`` go through."""
    return [
        push["data"]["status"]
        for push in listener.named("presence.update")
        if push["data"]["user_id"] == member.user_id
    ]


def after_the_grace(app, settle) -> None:
    """Fire what is due once the grace of a tab closed now is over."""
    grace = app.extensions["turumba.config"].presence_grace
    with app.app_context():
        fire_due(limit=10_000, now=datetime.now(UTC) + timedelta(seconds=grace + 1))
    settle()


def test_tabs_make_an_agent_online_away_and_offline_after_the_grace(
    app, client, settle, web, listener, account, agent, other_account
):
    colleague = listener().connect(web[1].url, account)
    stranger = listener().connect(web[1].url, other_account)
    first = listener().connect(web[0].url, agent)
    second = listener().connect(web[1].url, agent)
    settle()
    assert status_of(client, account, agent) == "online"
    assert first.call("presence", {"status": "away"}) == {"ok": True, "status": "online"}
    assert second.call("presence", {"status": "away"}) == {"ok": True, "status": "away"}
    assert second.call("presence", {"status": "asleep"}) == {"error": "invalid_status"}
    second.close()
    settle()
    assert status_of(client, account, agent) == "away"  # the other tab is still open
    first.close()
    settle()
    assert status_of(client, account, agent) == "away"  # a reload must not bounce them
    after_the_grace(app, settle)
    assert status_of(client, account, agent) == "offline"
    colleague.wait_for("presence.update", count=4)
    assert presence_of(colleague, agent) == ["online", "away", "offline"]
    assert presence_of(stranger, agent) == []
    assert stranger.accounts_heard() <= {other_account.account_id}


def test_an_agent_who_comes_back_within_the_grace_stays_online(
    app, client, settle, web, listener, account, agent
):
    listener().connect(web[0].url, agent).close()
    settle()
    listener().connect(web[1].url, agent)  # the reloaded page
    after_the_grace(app, settle)
    assert status_of(client, account, agent) == "online"


def test_coming_online_in_the_console_lets_automatic_assignment_pick_the_agent(
    client, settle, web, listener, account, agent
):
    channel_id = desk(client, account, [agent], mode="round_robin")
    _, contact_id = setup_desk(client, account)
    waiting = make(client, account, channel_id, contact_id)
    settle()
    url = account.url(f"/conversations/{waiting}")
    assert client.get(url, headers=account.headers).json["assignee_id"] is None  # offline
    listener().connect(web[0].url, agent)
    settle()
    assert client.get(url, headers=account.headers).json["assignee_id"] == agent.user_id
