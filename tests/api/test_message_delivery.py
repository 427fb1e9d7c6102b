"""What a message does once posted: delivery updates, HTML bodies, waking a conversation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from .test_conversations import count_events, events, open_conversation, set_status
from .test_mentions import messages
from .test_reading import inbound, post_message, reply


def deliver(client, member, conversation_id, message_id, **body):
    return client.patch(
        member.url(f"/conversations/{conversation_id}/messages/{message_id}"),
        json=body,
        headers=member.headers,
    )


def status_of(client, member, conversation_id):
    response = client.get(member.url(f"/conversations/{conversation_id}"), headers=member.headers)
    return response.json["status"], response.json["snoozed_until"]


class TestDelivery:
    def test_delivery_moves_forward_and_announces_each_move(self, app, client, account, agent):
        talk = open_conversation(client, account)["id"]
        message = reply(client, agent, talk)
        assert message["delivery_status"] == "queued"

        sent = deliver(client, agent, talk, message["id"], delivery_status="sent")
        assert sent.status_code == 200, sent.json
        assert sent.json["delivery_status"] == "sent"
        delivered = deliver(client, account, talk, message["id"], delivery_status="delivered")
        assert delivered.json["delivery_status"] == "delivered"
        updates = events(app, account, "message.updated")
        assert [e.payload for e in updates] == [
            {"conversation_id": talk, "delivery_status": ["queued", "sent"]},
            {"conversation_id": talk, "delivery_status": ["sent", "delivered"]},
        ]
        assert updates[0].subject_id == uuid.UUID(message["id"])
        assert updates[0].actor_id == uuid.UUID(agent.user_id)

        before = count_events(app, account)
        again = deliver(client, agent, talk, message["id"], delivery_status="delivered")
        assert again.status_code == 200  # no move, no event
        for backwards in ("queued", "sent", "failed"):
            body = {"delivery_status": backwards}
            if backwards == "failed":
                body["failure_reason"] = "bounced"
            refused = deliver(client, agent, talk, message["id"], **body)
            assert refused.status_code == 409, backwards
            assert refused.json["code"] == "illegal_transition"
            assert "delivery_status" in refused.json["errors"]
        assert count_events(app, account) == before
        assert messages(client, agent, talk)[0]["delivery_status"] == "delivered"

    def test_a_failure_needs_its_reason_and_only_a_failure_has_one(self, app, client, account):
        talk = open_conversation(client, account)["id"]
        message = reply(client, account, talk)
        reasonless = deliver(client, account, talk, message["id"], delivery_status="failed")
        assert reasonless.status_code == 422
        assert "failure_reason" in reasonless.json["errors"]
        stray = deliver(
            client, account, talk, message["id"], delivery_status="sent", failure_reason="?"
        )
        assert stray.status_code == 422
        assert "failure_reason" in stray.json["errors"]

        failed = deliver(
            client,
            account,
            talk,
            message["id"],
            delivery_status="failed",
            failure_reason="550 mailbox unavailable",
        )
        assert failed.status_code == 200
        assert (failed.json["delivery_status"], failed.json["failure_reason"]) == (
            "failed",
            "550 mailbox unavailable",
        )
        (update,) = events(app, account, "message.updated")
        assert update.payload == {
            "conversation_id": talk,
            "delivery_status": ["queued", "failed"],
            "failure_reason": [None, "550 mailbox unavailable"],
        }
        final = deliver(client, account, talk, message["id"], delivery_status="delivered")
        assert final.status_code == 409

    def test_messages_are_found_only_in_their_own_conversation_and_account(
        self, client, account, agent, other_account, add_member
    ):
        talk = open_conversation(client, account)["id"]
        elsewhere = open_conversation(client, account)["id"]
        message = reply(client, account, talk)
        theirs = open_conversation(client, other_account)["id"]
        their_message = reply(client, other_account, theirs)

        for conversation_id, message_id in (
            (elsewhere, message["id"]),
            (talk, str(uuid.uuid4())),
            (talk, their_message["id"]),
        ):
            missing = deliver(client, agent, conversation_id, message_id, delivery_status="sent")
            assert (missing.status_code, missing.json["code"]) == (404, "message_not_found")
        for member, conversation_id in ((other_account, talk), (other_account, uuid.uuid4())):
            unknown = deliver(
                client, member, conversation_id, message["id"], delivery_status="sent"
            )
            assert (unknown.status_code, unknown.json["code"]) == (404, "conversation_not_found")

        role = client.post(
            account.url("/roles"),
            json={"name": "Read only", "permissions": ["conversations:read"]},
            headers=account.headers,
        )
        reader = add_member(account.account_id, "reader", custom_role_id=role.json["id"])
        denied = deliver(client, reader, talk, message["id"], delivery_status="sent")
        assert (denied.status_code, denied.json["code"]) == (403, "permission_denied")
        assert messages(client, account, talk)[0]["delivery_status"] == "queued"
        assert messages(client, other_account, theirs)[0]["delivery_status"] == "queued"


def test_html_bodies_are_sanitised_and_the_text_stays(client, account, agent):
    talk = open_conversation(client, account)["id"]
    html = (
        '<p onclick="steal()">Hi <b>Grace</b><script>alert(document.cookie)</script>'
        '<img src="https://example.com/a.png" onerror="steal()">'
        '<a href="javascript:steal()">click</a> '
        '<a href="https://example.com/help" target="_blank">help</a></p>'
        "<style>body{display:none}</style><iframe src='https://evil.example'></iframe>"
    )
    message = inbound(client, agent, talk, body="Hi Grace click help")
    posted = post_message(
        client,
        agent,
        talk,
        direction="inbound",
        sender_type="contact",
        body="Hi Grace click help",
        html=html,
    )
    clean = posted["body_html"]
    assert posted["body"] == "Hi Grace click help"
    for forbidden in ("script", "onclick", "onerror", "javascript:", "alert", "style", "iframe"):
        assert forbidden not in clean, forbidden
    assert "<b>Grace</b>" in clean
    assert '<img src="https://example.com/a.png">' in clean
    assert '<a rel="noopener noreferrer">click</a>' in clean
    assert '<a href="https://example.com/help" rel="noopener noreferrer">help</a>' in clean
    assert message["body_html"] is None
    stored = {m["id"]: m["body_html"] for m in messages(client, account, talk)}
    assert stored == {message["id"]: None, posted["id"]: clean}


class TestWakingUp:
    def test_snoozing_without_a_time_lasts_until_the_contact_writes(self, app, client, account):
        conversation = open_conversation(client, account)
        talk = conversation["id"]
        snoozed = set_status(client, account, conversation, "snoozed")
        assert snoozed.status_code == 200, snoozed.json
        assert (snoozed.json["status"], snoozed.json["snoozed_until"]) == ("snoozed", None)

        reply(client, account, talk, "We'll get back to you")
        reply(client, account, talk, "note", private=True)
        assert status_of(client, account, talk) == ("snoozed", None)
        message = inbound(client, account, talk)
        assert status_of(client, account, talk) == ("open", None)
        woke = events(app, account, "conversation.status_changed")[-1]
        assert woke.payload == {"status": ["snoozed", "open"]}
        assert woke.actor_id == uuid.UUID(account.user_id)
        created = events(app, account, "message.created")[-1]
        assert created.subject_id == uuid.UUID(message["id"])
        assert created.occurred_at <= woke.occurred_at

    def test_a_timed_snooze_wakes_early_back_to_its_assignee(self, app, client, account, agent):
        conversation = open_conversation(client, account, assignee_id=agent.user_id)
        until = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        assert set_status(client, agent, conversation, "snoozed", snoozed_until=until).json[
            "snoozed_until"
        ]
        inbound(client, agent, conversation["id"])
        assert status_of(client, account, conversation["id"]) == ("assigned", None)
        woke = events(app, account, "conversation.status_changed")[-1]
        assert woke.payload["status"] == ["snoozed", "assigned"]
        assert woke.payload["snoozed_until"][1] is None
        assert woke.actor_id == uuid.UUID(agent.user_id)

    @pytest.mark.parametrize(
        "assignee,path",
        [(False, [["resolved", "open"]]), (True, [["resolved", "open"], ["open", "assigned"]])],
    )
    def test_a_resolved_conversation_reopens(self, app, client, account, agent, assignee, path):
        fields = {"assignee_id": agent.user_id} if assignee else {}
        conversation = open_conversation(client, account, **fields)
        assert set_status(client, account, conversation, "resolved").status_code == 200
        inbound(client, account, conversation["id"])
        status, _ = status_of(client, account, conversation["id"])
        assert status == ("assigned" if assignee else "open")
        moves = [e.payload["status"] for e in events(app, account, "conversation.status_changed")]
        assert moves[-len(path) :] == path

    def test_a_closed_conversation_refuses_inbound_messages(self, app, client, account):
        conversation = open_conversation(client, account)
        for status in ("resolved", "closed"):
            assert set_status(client, account, conversation, status).status_code == 200
        before = count_events(app, account)
        refused = client.post(
            account.url(f"/conversations/{conversation['id']}/messages"),
            json={"direction": "inbound", "sender_type": "contact", "body": "Hello again"},
            headers=account.headers,
        )
        assert (refused.status_code, refused.json["code"]) == (409, "conversation_closed")
        assert count_events(app, account) == before
        assert messages(client, account, conversation["id"]) == []
        assert status_of(client, account, conversation["id"]) == ("closed", None)
