"""Agents' notifications: who is notified of what (mentions, assignments, new messages
in their conversations), never of their own doing, once per event however often it is
delivered; and the caller's own list, counts and read marks, which nobody else reaches."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from core.redis import redis_client
from events.consumers import KEY_PREFIX, deliver
from events.relay import dispatch_args
from helpdesk import notifications
from helpdesk.notifications import Notification
from tenants.db import utcnow
from tenants.registry import registry
from tenants.session import tenant_session

from .test_assignment import desk, put_policy, set_status
from .test_automation_engine import rule
from .test_conversations import events, setup_desk
from .test_inbox import assign, make, staffed_desk
from .test_reading import inbound, mark_read, reply


def listed(client, member, **params):
    response = client.get(member.url("/notifications"), query_string=params, headers=member.headers)
    assert response.status_code == 200, response.json
    return response.json


def kinds(client, member, **params):
    """``[(type, conversation id)]`` of the member's notifications, newest first."""
    return [(n["type"], n["conversation_id"]) for n in listed(client, member, **params)["items"]]


def unread(client, member):
    response = client.get(member.url("/notifications/unread-count"), headers=member.headers)
    assert response.status_code == 200, response.json
    return response.json["unread_count"]


def note(client, author, conversation_id, *mentioned, body="Can you look?"):
    return reply(
        client,
        author,
        conversation_id,
        body,
        private=True,
        mentions=[member.user_id for member in mentioned],
    )


def stored(app, member) -> int:
    """Every notification row of the member's account, whoever it is for."""
    with app.app_context():
        account = registry().get(uuid.UUID(member.account_id))
        with tenant_session(account) as session:
            return session.scalar(select(func.count()).select_from(Notification))


# --- who is notified of what ------------------------------------------------------------


def test_a_mention_notifies_each_mentioned_agent_but_not_the_author(
    client, settle, account, add_member
):
    ada, bob, cleo = (add_member(account.account_id) for _ in range(3))
    channel_id, contact_id = staffed_desk(client, account, ada)
    talk = make(client, account, channel_id, contact_id, subject="Broken invoice")
    asked = note(client, ada, talk, bob, account, ada, body="@Bob @Owner   can you\nlook?")
    reply(client, ada, talk, "Thanks for waiting")  # no mentions: nobody
    settle()

    (mention,) = listed(client, bob)["items"]
    assert mention["type"] == "mention"
    assert mention["conversation_id"] == talk and mention["message_id"] == asked["id"]
    assert mention["actor"] == {"type": "user", "id": ada.user_id}
    assert mention["read_at"] is None
    assert mention["data"] == {
        "subject": "Broken invoice",
        "contact_name": "Grace",
        "actor_name": "Agent",
        "preview": "@Bob @Owner can you look?",
    }
    assert kinds(client, account) == [("mention", talk)]
    assert kinds(client, ada) == []  # she mentioned herself: her own doing
    assert kinds(client, cleo) == []


def test_an_assignment_by_someone_else_notifies_and_taking_one_yourself_does_not(
    client, settle, account, add_member
):
    ada, bob = add_member(account.account_id), add_member(account.account_id)
    channel_id, contact_id = setup_desk(client, account)
    given = make(client, account, channel_id, contact_id)
    taken = make(client, account, channel_id, contact_id)
    created = make(client, account, channel_id, contact_id, assignee_id=bob.user_id)
    assign(client, account, given, ada.user_id)
    assign(client, ada, taken, ada.user_id)
    settle()
    assert kinds(client, bob) == [("assigned", created)]

    (assigned,) = listed(client, ada)["items"]
    assert (assigned["type"], assigned["conversation_id"]) == ("assigned", given)
    assert assigned["actor"] == {"type": "user", "id": account.user_id}
    assert assigned["message_id"] is None
    # Reassigned: the new assignee hears of it; unassigning notifies nobody.
    assign(client, ada, given, bob.user_id)
    assign(client, account, taken, None)
    settle()
    assert kinds(client, bob) == [("assigned", given), ("assigned", created)]
    assert kinds(client, ada) == [("assigned", given)]
    assert kinds(client, account) == []


def test_automation_and_automatic_assignment_notify_the_assignee(
    client, settle, account, add_member
):
    ada, bob = add_member(account.account_id), add_member(account.account_id)
    made = rule(
        client,
        account,
        conditions={"==": [{"var": "message.kind"}, "inbound"]},
        actions=[{"type": "assign_agent", "params": {"agent_id": ada.user_id}}],
    )
    channel_id, contact_id = setup_desk(client, account)
    talk = make(client, account, channel_id, contact_id)
    inbound(client, account, talk, "Hello?")
    settle()
    (by_rule,) = listed(client, ada)["items"]
    assert (by_rule["type"], by_rule["conversation_id"]) == ("assigned", talk)
    assert by_rule["actor"] == {"type": "automation", "id": made["id"]}

    rotation = desk(client, account, [bob], mode="round_robin")
    set_status(client, "online", bob)
    waiting = make(client, account, rotation, contact_id)
    settle()
    (by_policy,) = listed(client, bob)["items"]
    assert (by_policy["type"], by_policy["conversation_id"]) == ("assigned", waiting)
    assert by_policy["actor"] == {"type": "system", "id": None}
    assert by_policy["data"]["policy"] == "round_robin"
    assert put_policy(client, account, rotation, mode="manual").status_code == 200


def test_the_contact_writing_in_an_assigned_conversation_notifies_its_assignee(
    client, settle, account, add_member
):
    ada, bob = add_member(account.account_id), add_member(account.account_id)
    channel_id, contact_id = staffed_desk(client, account, ada, bob)
    hers = make(client, account, channel_id, contact_id, assignee_id=ada.user_id)
    nobodys = make(client, account, channel_id, contact_id)
    muted = make(client, account, channel_id, contact_id, assignee_id=ada.user_id)
    client.patch(
        account.url(f"/conversations/{muted}"), json={"muted": True}, headers=account.headers
    )
    settle()
    assert kinds(client, ada) == [("assigned", muted), ("assigned", hers)]  # made so

    written = inbound(client, account, hers, "Any news on my order?")
    inbound(client, account, nobodys, "Hello?")
    inbound(client, account, muted, "Me again")
    reply(client, ada, hers, "Looking into it")  # her own reply: nothing
    reply(client, bob, hers, "I'll help", private=True)  # a note without a mention: nothing
    settle()

    (new_message,) = listed(client, ada, type="new_message_in_assigned")["items"]
    assert new_message["conversation_id"] == hers
    assert new_message["message_id"] == written["id"]
    assert new_message["data"]["preview"] == "Any news on my order?"
    assert kinds(client, bob) == [] and kinds(client, account) == []


def test_an_event_delivered_again_adds_nothing(app, client, settle, account, agent):
    channel_id, contact_id = setup_desk(client, account)
    talk = make(client, account, channel_id, contact_id)
    posted = note(client, account, talk, agent)
    settle()
    assert stored(app, account) == 1
    (created,) = [
        e for e in events(app, account, "message.created") if str(e.subject_id) == posted["id"]
    ]
    # As if the guard had expired or the job was retried after a failure elsewhere: the
    # consumer runs again on the same event.
    with app.app_context():
        redis_client().delete(f"{KEY_PREFIX}:helpdesk.notifications:{created.id}")
        assert "helpdesk.notifications" in deliver(**dispatch_args(created))
    assert stored(app, account) == 1
    assert unread(client, agent) == 1


# --- the caller's list ------------------------------------------------------------------


def test_the_list_pages_newest_first_and_filters_and_counts_unread(client, settle, account, agent):
    channel_id, contact_id = setup_desk(client, account)
    talks = [make(client, account, channel_id, contact_id) for _ in range(3)]
    for talk in talks:
        note(client, account, talk, agent)
    assign(client, account, talks[0], agent.user_id)
    settle()

    everything = listed(client, agent)
    assert [n["conversation_id"] for n in everything["items"]] == [talks[0], *reversed(talks)]
    assert everything["unread_count"] == unread(client, agent) == 4
    first = listed(client, agent, limit=3)
    assert first["has_more"] is True and len(first["items"]) == 3
    rest = listed(client, agent, limit=3, before=first["items"][-1]["id"])
    assert rest["has_more"] is False
    assert first["items"] + rest["items"] == everything["items"]
    assert kinds(client, agent, type="assigned") == [("assigned", talks[0])]
    assert len(listed(client, agent, conversation_id=talks[0])["items"]) == 2

    newest = everything["items"][0]
    marked = client.post(agent.url(f"/notifications/{newest['id']}/read"), headers=agent.headers)
    assert marked.status_code == 200 and marked.json["read_at"] is not None
    again = client.post(agent.url(f"/notifications/{newest['id']}/read"), headers=agent.headers)
    assert again.json["read_at"] == marked.json["read_at"]  # read once, when first read
    assert unread(client, agent) == 3
    assert newest["id"] not in [n["id"] for n in listed(client, agent, unread=True)["items"]]
    back = client.post(agent.url(f"/notifications/{newest['id']}/unread"), headers=agent.headers)
    assert back.status_code == 200 and back.json["read_at"] is None
    assert unread(client, agent) == 4

    one = client.post(
        agent.url("/notifications/read"), json={"conversation_id": talks[1]}, headers=agent.headers
    )
    assert one.json == {"marked": 1, "unread_count": 3}
    every = client.post(agent.url("/notifications/read"), json={}, headers=agent.headers)
    assert every.json == {"marked": 3, "unread_count": 0}
    assert listed(client, agent, unread=True)["items"] == []

    gone = client.delete(agent.url(f"/notifications/{newest['id']}"), headers=agent.headers)
    assert gone.status_code == 204
    missing = client.get(agent.url(f"/notifications/{newest['id']}"), headers=agent.headers)
    assert (missing.status_code, missing.json["code"]) == (404, "notification_not_found")
    assert len(listed(client, agent)["items"]) == 3


def test_reading_the_conversation_marks_its_notifications_read(client, settle, account, agent):
    channel_id, contact_id = setup_desk(client, account)
    read, unread_talk = (make(client, account, channel_id, contact_id) for _ in range(2))
    for talk in (read, unread_talk):
        note(client, account, talk, agent)
    settle()
    assert mark_read(client, agent, read).status_code == 200
    settle()
    assert kinds(client, agent, unread=True) == [("mention", unread_talk)]
    # Already read past the message when the worker gets to it: nothing to tell.
    note(client, account, read, agent)
    mark_read(client, agent, read)
    settle()
    assert unread(client, agent) == 1


def test_arguments_are_checked(client, account, agent):
    for params in ({"type": "birthday"}, {"limit": 0}, {"limit": 101}, {"before": "x"}):
        refused = client.get(
            agent.url("/notifications"), query_string=params, headers=agent.headers
        )
        assert (refused.status_code, refused.json["code"]) == (422, "validation_failed")
    stranger = client.get(
        agent.url("/notifications"), query_string={"before": uuid.uuid4()}, headers=agent.headers
    )
    assert stranger.status_code == 422 and "before" in stranger.json["errors"]


# --- nobody else's ----------------------------------------------------------------------


def test_nobody_reads_or_marks_another_members_notifications(
    client, settle, account, add_member, other_account
):
    ada, bob = add_member(account.account_id), add_member(account.account_id)
    admin = add_member(account.account_id, "admin")
    channel_id, contact_id = setup_desk(client, account)
    talk = make(client, account, channel_id, contact_id)
    note(client, account, talk, bob)
    # The other account's owner has notifications of their own, in their account.
    their_channel, their_contact = setup_desk(client, other_account)
    theirs = make(client, other_account, their_channel, their_contact)
    assign(client, other_account, theirs, add_member(other_account.account_id).user_id)
    settle()
    (bobs,) = listed(client, bob)["items"]

    for member in (ada, admin, account):  # an agent, an admin, the owner: all not found
        assert listed(client, member)["items"] == []
        assert unread(client, member) == 0
        for method, path in (
            ("GET", ""),
            ("DELETE", ""),
            ("POST", "/read"),
            ("POST", "/unread"),
        ):
            refused = client.open(
                member.url(f"/notifications/{bobs['id']}{path}"),
                method=method,
                headers=member.headers,
            )
            assert (refused.status_code, refused.json["code"]) == (404, "notification_not_found")
        cursor = client.get(
            member.url("/notifications"),
            query_string={"before": bobs["id"]},
            headers=member.headers,
        )
        assert cursor.status_code == 422
        all_read = client.post(member.url("/notifications/read"), json={}, headers=member.headers)
        assert all_read.json["marked"] == 0

    # Another account: its URL does not know our notification, ours does not know them.
    elsewhere = client.get(
        other_account.url(f"/notifications/{bobs['id']}"), headers=other_account.headers
    )
    assert (elsewhere.status_code, elsewhere.json["code"]) == (404, "notification_not_found")
    assert listed(client, other_account)["items"] == []
    for url in (account.url("/notifications"), account.url(f"/notifications/{bobs['id']}")):
        outside = client.get(url, headers=other_account.headers)
        assert (outside.status_code, outside.json["code"]) == (404, "account_not_found")

    assert unread(client, bob) == 1 and listed(client, bob)["items"] == [bobs]


def test_members_who_cannot_read_conversations_have_no_notifications(client, account, add_member):
    role = client.post(
        account.url("/roles"),
        json={"name": "Auditor", "permissions": ["audit:read"]},
        headers=account.headers,
    )
    auditor = add_member(account.account_id, "auditor", custom_role_id=role.json["id"])
    refused = client.get(auditor.url("/notifications"), headers=auditor.headers)
    assert (refused.status_code, refused.json["code"]) == (403, "permission_denied")


def test_read_notifications_are_pruned_after_retention(app, client, settle, account, agent):
    channel_id, contact_id = setup_desk(client, account)
    talk = make(client, account, channel_id, contact_id)
    note(client, account, talk, agent)
    note(client, account, talk, agent)
    settle()
    old, kept = listed(client, agent)["items"]
    with app.app_context():
        record = registry().get(uuid.UUID(account.account_id))
        with tenant_session(record) as session:
            long_ago = utcnow() - timedelta(days=notifications.READ_RETENTION_DAYS + 1)
            session.get(Notification, uuid.UUID(old["id"])).read_at = long_ago
            session.get(Notification, uuid.UUID(kept["id"])).created_at = long_ago  # unread
        notifications._pruned.pop(record.id, None)
    note(client, account, talk, agent)
    settle()
    remaining = [n["id"] for n in listed(client, agent)["items"]]
    assert old["id"] not in remaining and kept["id"] in remaining
    assert len(remaining) == 2
