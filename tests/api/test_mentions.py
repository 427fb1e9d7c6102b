"""@mentions in messages and the inbox's mentions tab."""

from __future__ import annotations

import uuid

from .test_conversations import count_events, events, set_status, setup_desk
from .test_inbox import ids, inbox, make, staffed_desk
from .test_reading import inbound, mark_read, reply


def messages(client, member, conversation_id):
    response = client.get(
        member.url(f"/conversations/{conversation_id}/messages"), headers=member.headers
    )
    assert response.status_code == 200, response.json
    return response.json["items"]


def test_a_note_mentions_members_and_says_so(app, client, account, add_member):
    ada, bob = add_member(account.account_id), add_member(account.account_id)
    channel_id, contact_id = staffed_desk(client, account, ada)
    talk = make(client, account, channel_id, contact_id)
    note = reply(
        client,
        ada,
        talk,
        "@Bob @Owner can you look?",
        private=True,
        mentions=[bob.user_id, account.user_id, bob.user_id],
    )
    assert note["mentions"] == [bob.user_id, account.user_id]
    plain = reply(client, ada, talk, "Thanks for waiting")
    assert plain["mentions"] == []
    listed = {m["id"]: m["mentions"] for m in messages(client, bob, talk)}
    assert listed == {note["id"]: [bob.user_id, account.user_id], plain["id"]: []}

    created = {e.subject_id: e.payload for e in events(app, account, "message.created")}
    assert created[uuid.UUID(note["id"])]["mentions"] == [bob.user_id, account.user_id]
    assert created[uuid.UUID(plain["id"])]["mentions"] == []


def test_only_members_are_mentioned_and_only_by_outbound_messages(
    app, client, account, agent, other_account
):
    channel_id, contact_id = setup_desk(client, account)
    talk = make(client, account, channel_id, contact_id)
    url = account.url(f"/conversations/{talk}/messages")
    before = count_events(app, account)
    for stranger in (other_account.user_id, str(uuid.uuid4())):
        body = {
            "direction": "outbound",
            "sender_type": "agent",
            "body": "Hi",
            "private": True,
            "mentions": [agent.user_id, stranger],
        }
        refused = client.post(url, json=body, headers=agent.headers)
        assert refused.status_code == 422
        assert "mentions" in refused.json["errors"]
    from_contact = client.post(
        url,
        json={
            "direction": "inbound",
            "sender_type": "contact",
            "body": "@agent",
            "mentions": [agent.user_id],
        },
        headers=agent.headers,
    )
    assert from_contact.status_code == 422
    assert "mentions" in from_contact.json["errors"]
    assert messages(client, account, talk) == []
    assert count_events(app, account) == before


def test_the_mentions_tab_lists_where_the_caller_was_mentioned(client, account, add_member):
    ada, bob = add_member(account.account_id), add_member(account.account_id)
    # Bob belongs to no inbox: being mentioned brings a conversation into his mentions tab
    # (not into his all tab).
    channel_id, contact_id = staffed_desk(client, account, ada)
    asked = make(client, account, channel_id, contact_id)
    other = make(client, account, channel_id, contact_id)
    inbound(client, account, asked)
    reply(client, ada, asked, "@Bob?", private=True, mentions=[bob.user_id])
    reply(client, ada, other, "@Owner?", private=True, mentions=[account.user_id])

    page = inbox(client, bob, tab="mentions")
    assert ids(page) == [asked]
    assert page["counts"]["mentions"] == page["meta"]["total"] == 1
    assert page["counts"]["all"] == 0
    assert page["items"][0]["unread_count"] == 2
    assert page["counts"]["unread"]["mentions"] == 1
    mark_read(client, bob, asked)
    assert inbox(client, bob, tab="mentions")["counts"]["unread"]["mentions"] == 0

    assert ids(inbox(client, account, tab="mentions")) == [other]
    assert inbox(client, ada, tab="mentions")["counts"]["mentions"] == 0

    # The status filter applies as on every tab: resolved conversations leave by default.
    assert set_status(client, ada, {"id": asked}, "resolved").status_code == 200
    assert ids(inbox(client, bob, tab="mentions")) == []
    assert ids(inbox(client, bob, tab="mentions", status="resolved")) == [asked]


def test_mentions_stay_in_their_account(client, account, agent, other_account, add_member):
    channel_id, contact_id = setup_desk(client, account)
    talk = make(client, account, channel_id, contact_id)
    reply(client, account, talk, "@agent", private=True, mentions=[agent.user_id])
    # The other account's owner, mentioned in their own account, sees only that one.
    their_channel, their_contact = setup_desk(client, other_account)
    theirs = make(client, other_account, their_channel, their_contact)
    reply(
        client,
        other_account,
        theirs,
        "note to self",
        private=True,
        mentions=[other_account.user_id],
    )
    assert ids(inbox(client, other_account, tab="mentions")) == [theirs]
    assert ids(inbox(client, agent, tab="mentions")) == [talk]

    role = client.post(
        account.url("/roles"),
        json={"name": "Read only", "permissions": ["conversations:read"]},
        headers=account.headers,
    )
    reader = add_member(account.account_id, "reader", custom_role_id=role.json["id"])
    denied = client.post(
        account.url(f"/conversations/{talk}/messages"),
        json={
            "direction": "outbound",
            "sender_type": "agent",
            "body": "@agent",
            "mentions": [agent.user_id],
        },
        headers=reader.headers,
    )
    assert (denied.status_code, denied.json["code"]) == (403, "permission_denied")
    assert inbox(client, reader, tab="mentions")["counts"]["mentions"] == 0
