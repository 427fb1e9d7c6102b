"""Inbox pushes across processes: a change made through one web process, or by an RQ
worker's automation rule, reaches a browser connected to another; a foreign account's
browser hears nothing; every push is numbered, and a reconnecting client gets what it
missed."""

from __future__ import annotations

import time

import pytest

from tests.api.test_automation_engine import rule
from tests.api.test_conversations import setup_desk
from tests.api.test_inbox import make
from tests.api.test_merge_split import merge
from tests.live import api


def post(url: str, member, path: str, body: dict) -> dict:
    return api(url, member, "POST", path, body)


def test_a_message_posted_through_one_process_reaches_a_browser_on_the_other(
    client, settle, web, listener, account, other_account
):
    first, second = web
    ours = listener().connect(second.url, account)
    theirs = listener().connect(first.url, other_account)
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    posted = post(
        first.url,
        account,
        f"/conversations/{conversation_id}/messages",
        {"direction": "inbound", "sender_type": "contact", "body": "Is anyone there?"},
    )
    settle()
    (push,) = ours.wait_for("message.created")
    assert push["room"] == f"account:{account.account_id}" and push["seq"] >= 1
    assert push["data"]["account_id"] == account.account_id
    assert push["data"]["message"]["id"] == posted["id"]
    assert push["data"]["message"]["body"] == "Is anyone there?"
    assert push["data"]["conversation"]["id"] == conversation_id
    assert push["data"]["conversation"]["waiting_since"] is not None  # the state now
    time.sleep(0.5)  # long enough for a stray push to arrive
    assert theirs.named("message.created") == []
    assert theirs.accounts_heard() == {other_account.account_id}  # their own presence


def test_an_automation_rule_run_by_a_worker_reaches_the_browser(
    client, settle, web, listener, account
):
    rule(
        client,
        account,
        conditions={"in_ci": ["refund", {"var": "message.body"}]},
        actions=[{"type": "set_priority", "params": {"priority": "urgent"}}],
    )
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    ours = listener().connect(web[0].url, account)
    client.post(
        account.url(f"/conversations/{conversation_id}/messages"),
        json={"direction": "inbound", "sender_type": "contact", "body": "A refund, please"},
        headers=account.headers,
    )
    settle()
    updates = ours.wait_for("conversation.updated")
    assert updates[0]["data"]["conversation"]["priority"] == "urgent"
    for room in {data["room"] for _, data in ours.heard}:  # the account's feed, the user's
        seqs = [data["seq"] for _, data in ours.heard if data["room"] == room]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


@pytest.mark.parametrize(
    ("credentials", "code"),
    [
        ({"token": "not-a-token"}, "invalid_token"),
        ({"token": ""}, "unauthenticated"),
        ({"account_id": "0f0e0d0c-0b0a-0908-0706-050403020100"}, "account_not_found"),
    ],
)
def test_connections_are_refused_like_the_rest_api_refuses(
    web, listener, account, credentials, code
):
    assert listener().refused(web[0].url, account, **credentials)["code"] == code


def test_a_member_of_another_account_cannot_join_this_one(web, listener, account, other_account):
    refusal = listener().refused(web[0].url, other_account, account_id=account.account_id)
    assert refusal["code"] == "account_not_found"


def test_a_reconnecting_client_gets_what_it_missed_or_is_told_to_reload(
    client, settle, web, listener, account
):
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    first = listener().connect(web[0].url, account)
    settle()
    client.patch(
        account.url(f"/conversations/{conversation_id}"),
        json={"priority": "low"},
        headers=account.headers,
    )
    settle()
    (seen,) = first.wait_for("conversation.updated")
    first.close()
    for priority in ("medium", "high"):  # while it was away
        client.patch(
            account.url(f"/conversations/{conversation_id}"),
            json={"priority": priority},
            headers=account.headers,
        )
        settle()  # each push carries the state when it went out
    again = listener().connect(web[1].url, account)
    room, epoch = seen["room"], seen["epoch"]
    missed = again.client.call("resync", {"room": room, "epoch": epoch, "after": seen["seq"]})
    priorities = [e["data"]["conversation"]["priority"] for e in missed["events"]]
    assert priorities == ["medium", "high"]
    assert [e["seq"] for e in missed["events"]] == [seen["seq"] + 1, seen["seq"] + 2]
    assert again.client.call("resync", {"room": room, "epoch": "another", "after": 1}) == {
        "reload": True,
        "epoch": epoch,  # where to carry on from, once reloaded
        "after": seen["seq"] + 2,
    }
    assert (
        again.client.call("resync", {"room": "account:elsewhere", "epoch": epoch, "after": 0})[
            "error"
        ]
        == "not_in_room"
    )


def test_typing_reaches_the_others_viewing_the_conversation_only(
    client, web, listener, account, agent, other_account
):
    channel_id, contact_id = setup_desk(client, account)
    conversation_id = make(client, account, channel_id, contact_id)
    typist = listener().connect(web[0].url, account)
    colleague = listener().connect(web[1].url, agent)
    elsewhere = listener().connect(web[1].url, agent)  # the same agent, another tab
    stranger = listener().connect(web[1].url, other_account)
    colleague.call("conversation.join", {"conversation_id": conversation_id})
    typing = {"conversation_id": conversation_id, "on": True}
    assert typist.client.call("typing", typing) == {"ok": True}
    assert typist.client.call("typing", typing) == {"ok": True, "throttled": True}
    assert typist.client.call("typing", {**typing, "on": False}) == {"ok": True}
    (on,) = colleague.wait_for("conversation.typing_on")
    (off,) = colleague.wait_for("conversation.typing_off")
    assert on == {
        "account_id": account.account_id,
        "conversation_id": conversation_id,
        "user_id": account.user_id,
    }
    assert off["user_id"] == account.user_id
    # A conversation of another account is not one to type in.
    assert stranger.client.call("typing", typing) == {"error": "conversation_not_found"}
    assert stranger.call("conversation.join", typing) == {"error": "conversation_not_found"}
    time.sleep(0.5)
    assert typist.named("conversation.typing_on") == []  # not echoed to the typist
    assert elsewhere.named("conversation.typing_on") == []  # not viewing it
    assert stranger.accounts_heard() <= {other_account.account_id}


def test_merges_and_deleted_contacts_are_pushed_with_what_happened(
    client, settle, web, listener, account
):
    channel_id, contact_id = setup_desk(client, account)
    target = make(client, account, channel_id, contact_id)
    source = make(client, account, channel_id, contact_id)
    ours = listener().connect(web[0].url, account)
    merged = merge(client, account, {"id": target}, source)
    assert merged.status_code == 200, merged.json
    settle()
    sides = ours.wait_for("conversation.merged", count=2)
    assert {push["data"]["conversation"]["id"] for push in sides} == {source, target}
    for push in sides:
        assert push["data"]["details"]["source_id"] == source
        assert push["data"]["details"]["target_id"] == target
    (loser,) = [p for p in sides if p["data"]["conversation"]["id"] == source]
    assert loser["data"]["conversation"]["status"] == "closed"  # the state now
    other = client.post(
        account.url("/contacts"), json={"name": "Ada"}, headers=account.headers
    ).json["id"]
    deleted = client.delete(account.url(f"/contacts/{other}"), headers=account.headers)
    assert deleted.status_code == 204, deleted.json
    settle()
    (gone,) = ours.wait_for("contact.deleted")
    assert gone["data"] == {"account_id": account.account_id, "contact_id": other}


def test_a_contact_merge_reaches_a_connected_agent_with_the_target_as_it_is_now(
    client, settle, web, listener, account, other_account
):
    channel_id, target = setup_desk(client, account)
    source = client.post(
        account.url("/contacts"),
        json={"name": "Twin", "company": "Engines"},
        headers=account.headers,
    ).json["id"]
    make(client, account, channel_id, source)
    ours = listener().connect(web[0].url, account)
    theirs = listener().connect(web[1].url, other_account)
    merged = client.post(
        account.url(f"/contacts/{target}/merge"),
        json={"source_id": source},
        headers=account.headers,
    )
    assert merged.status_code == 200, merged.json
    settle()
    (push,) = ours.wait_for("contact.merged")
    assert push["data"]["account_id"] == account.account_id
    assert push["data"]["contact"]["id"] == target
    assert push["data"]["contact"]["company"] == "Engines"  # the target's state now
    details = push["data"]["details"]
    assert (details["source_id"], details["target_id"]) == (source, target)
    assert details["moved"]["conversations"] == 1
    (gone,) = ours.wait_for("contact.deleted")
    assert gone["data"]["contact_id"] == source
    time.sleep(0.3)
    assert theirs.named("contact.merged") == []


def test_a_contacts_tag_change_is_heard_as_the_contact_updated(
    client, settle, web, listener, account, other_account
):
    contact = client.post(account.url("/contacts"), json={"name": "Ada"}, headers=account.headers)
    contact_id = contact.json["id"]
    ours = listener().connect(web[0].url, account)
    theirs = listener().connect(web[1].url, other_account)
    url = account.url(f"/contacts/{contact_id}/tags")
    assert client.post(url, json={"tags": ["vip"]}, headers=account.headers).status_code == 200
    assert client.delete(f"{url}/vip", headers=account.headers).status_code == 204
    settle()
    added, removed = ours.wait_for("contact.updated", count=2)
    assert added["data"]["contact"]["id"] == contact_id
    assert (added["data"]["details"]["tag"], added["data"]["details"]["change"]) == (
        "vip",
        "added",
    )
    assert removed["data"]["details"]["change"] == "removed"
    time.sleep(0.3)
    assert theirs.named("contact.updated") == []
