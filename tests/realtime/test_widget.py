"""The chat widget's socket (namespace ``/widget``) against real web processes: a contact
hears the agents' public replies and status changes of their own conversations, never a
private note, never another contact's; tokens are checked as the widget's REST API
checks them."""

from __future__ import annotations

import contextlib
import time

import pytest
import socketio

from tests.api.test_widget import agent_says, open_session, start, widget_channel
from tests.realtime.conftest import Listener

NAMESPACE = "/widget"


class WidgetListener(Listener):
    """A Socket.IO client of the ``/widget`` namespace that keeps every push it hears."""

    def __init__(self) -> None:
        super().__init__()
        self.client.on("*", self._keep, namespace=NAMESPACE)
        self.client.on("connect_error", self._refused, namespace=NAMESPACE)
        self.client.on("disconnect", self._dropped, namespace=NAMESPACE)

    def connect(self, url: str, member, channel_id: str, token: str, **auth) -> WidgetListener:
        credentials = {
            "token": token,
            "account_id": member.account_id,
            "channel_id": channel_id,
            **auth,
        }
        self.client.connect(
            url,
            auth=credentials,
            namespaces=[NAMESPACE],
            transports=["websocket"],
            wait_timeout=10,
        )
        return self

    def refused(self, url: str, member, channel_id: str, token: str, **auth) -> dict:
        with contextlib.suppress(socketio.exceptions.ConnectionError):
            self.connect(url, member, channel_id, token, **auth)
        with self._arrived:
            self._arrived.wait_for(lambda: self.refusal is not None, timeout=10)
        assert self.refusal is not None and not self.client.connected
        return self.refusal["data"]

    def call(self, event: str, data: dict) -> dict:
        return self.client.call(event, data, namespace=NAMESPACE, timeout=10)


@pytest.fixture
def widget_listener():
    made: list[WidgetListener] = []

    def make() -> WidgetListener:
        made.append(WidgetListener())
        return made[-1]

    yield make
    for one in made:
        one.close()


def test_an_agents_reply_reaches_the_contact_and_a_private_note_never_does(
    client, settle, web, widget_listener, account
):
    channel_id = widget_channel(client, account)
    grace = open_session(client, account, channel_id, name="Grace")
    other = open_session(client, account, channel_id, name="Other")
    conversation = start(client, account, channel_id, grace["token"], "Where is my order?")
    settle()
    ours = widget_listener().connect(web[1].url, account, channel_id, grace["token"])
    theirs = widget_listener().connect(web[0].url, account, channel_id, other["token"])
    note = agent_says(client, account, conversation["id"], "Grumpy one, careful", private=True)
    reply = agent_says(client, account, conversation["id"], "It ships today!")
    settle()  # the note's event is consumed before the reply's
    (push,) = ours.wait_for("message.created")
    assert push["room"] == f"contact:{account.account_id}:{grace['contact_id']}"
    assert push["data"]["message"]["id"] == reply["id"]
    assert push["data"]["message"]["sender"] == {"type": "agent", "name": "Owner"}
    assert set(push["data"]["message"]) == {
        "id",
        "conversation_id",
        "body",
        "body_html",
        "sender",
        "created_at",
    }
    time.sleep(0.5)  # long enough for a stray push to arrive
    heard = repr(ours.heard)
    assert note["id"] not in heard and "Grumpy" not in heard
    assert [name for name, _ in ours.heard] == ["message.created"]
    assert theirs.heard == []

    client.post(
        account.url(f"/conversations/{conversation['id']}/status"),
        json={"status": "resolved"},
        headers=account.headers,
    )
    settle()
    (status,) = ours.wait_for("conversation.status_changed")
    assert status["data"] == {"conversation": {"id": conversation["id"], "status": "resolved"}}
    assert status["seq"] == push["seq"] + 1  # the contact's own feed
    time.sleep(0.5)
    assert theirs.heard == []


def test_the_contacts_own_messages_and_new_conversations_reach_their_other_tabs(
    client, settle, web, widget_listener, account
):
    channel_id = widget_channel(client, account)
    grace = open_session(client, account, channel_id, name="Grace")
    tab = widget_listener().connect(web[0].url, account, channel_id, grace["token"])
    conversation = start(client, account, channel_id, grace["token"], "Hi there")
    settle()
    (created,) = tab.wait_for("conversation.created")
    assert created["data"]["conversation"]["id"] == conversation["id"]
    assert created["data"]["conversation"]["status"] == "open"
    (message,) = tab.wait_for("message.created")
    assert message["data"]["message"]["sender"] == {"type": "contact", "name": "Grace"}


def test_a_widget_that_was_closed_is_told_to_reload_then_carries_on(
    client, settle, web, widget_listener, account
):
    channel_id = widget_channel(client, account)
    grace = open_session(client, account, channel_id)
    conversation = start(client, account, channel_id, grace["token"])
    settle()
    first = widget_listener().connect(web[0].url, account, channel_id, grace["token"])
    agent_says(client, account, conversation["id"], "One")
    settle()
    (seen,) = first.wait_for("message.created")
    first.close()
    agent_says(client, account, conversation["id"], "Two")
    agent_says(client, account, conversation["id"], "Secret", private=True)
    agent_says(client, account, conversation["id"], "Three")
    settle()
    again = widget_listener().connect(web[1].url, account, channel_id, grace["token"])
    missed = again.call(
        "resync", {"room": seen["room"], "epoch": seen["epoch"], "after": seen["seq"]}
    )
    # Nobody was listening: the two replies were counted, not kept (the note not even
    # counted), so the widget reloads the conversation, then carries on from there.
    assert missed == {"reload": True, "epoch": seen["epoch"], "after": seen["seq"] + 2}
    agent_says(client, account, conversation["id"], "Four")
    settle()
    (four,) = again.wait_for("message.created")
    assert four["data"]["message"]["body"] == "Four" and four["seq"] == seen["seq"] + 3
    since = {"room": four["room"], "epoch": four["epoch"], "after": missed["after"]}
    assert [e["data"]["message"]["body"] for e in again.call("resync", since)["events"]] == ["Four"]
    elsewhere = f"account:{account.account_id}"  # the agents' feed is not the contact's
    assert again.call("resync", {"room": elsewhere, "epoch": seen["epoch"], "after": 0}) == {
        "error": "not_in_room"
    }


def test_a_widget_token_of_another_account_is_refused(
    client, web, widget_listener, account, other_account
):
    ours = widget_channel(client, account)
    theirs = widget_channel(client, other_account)
    their_token = open_session(client, other_account, theirs)["token"]
    refusal = widget_listener().refused(web[0].url, account, ours, their_token)
    assert refusal["code"] == "invalid_token"
    refusal = widget_listener().refused(web[0].url, account, theirs, their_token)
    assert refusal["code"] == "invalid_token"
    # With its own account and channel it is admitted.
    assert (
        widget_listener().connect(web[0].url, other_account, theirs, their_token).client.connected
    )


@pytest.mark.parametrize(
    ("token", "code"),
    [("", "unauthenticated"), ("not-a-token", "invalid_token"), ("agent", "invalid_token")],
)
def test_widget_connections_are_refused_like_the_widget_api_refuses(
    client, web, widget_listener, account, token, code
):
    channel_id = widget_channel(client, account)
    token = account.token if token == "agent" else token  # an agent's access token
    assert widget_listener().refused(web[0].url, account, channel_id, token)["code"] == code


def test_a_widget_token_does_not_open_the_agents_socket(client, web, listener, account):
    channel_id = widget_channel(client, account)
    token = open_session(client, account, channel_id)["token"]
    refusal = listener().refused(web[0].url, account, token=token)
    assert refusal["code"] == "invalid_token"


def test_a_deleted_contacts_open_widget_is_told_its_session_ended(
    client, settle, web, widget_listener, account
):
    channel_id = widget_channel(client, account)
    visitor = open_session(client, account, channel_id)
    other = open_session(client, account, channel_id)
    ours = widget_listener().connect(web[0].url, account, channel_id, visitor["token"])
    theirs = widget_listener().connect(web[1].url, account, channel_id, other["token"])
    deleted = client.delete(
        account.url(f"/contacts/{visitor['contact_id']}"), headers=account.headers
    )
    assert deleted.status_code == 204, deleted.json
    settle()
    (ended,) = ours.wait_for("session.ended")
    assert ended["data"] == {"reason": "contact_deleted"}
    time.sleep(0.3)
    assert theirs.named("session.ended") == []
