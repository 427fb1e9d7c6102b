"""The chat widget's API: visitors' sessions on in-app channels, and what a contact sees
of their own conversations (never a private note, never anyone else's)."""

from __future__ import annotations

import uuid

import pytest

from helpdesk.widget import identifier_hash_of
from tests.conftest import unique_email

SECRET = "s3cret-of-the-website"


def contact_email(prefix: str) -> str:
    """A unique address contacts accept (``unique_email``'s ``.test`` is a reserved domain)."""
    return unique_email(prefix).replace("@example.test", "@example.com")


def widget_channel(client, member, **config) -> str:
    response = client.post(
        member.url("/channels"),
        json={"type": "in_app", "name": "Website", "config": config},
        headers=member.headers,
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def widget_url(member, channel_id: str, path: str = "") -> str:
    return f"/v1/widget/accounts/{member.account_id}/channels/{channel_id}{path}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def open_session(client, member, channel_id: str, **body) -> dict:
    response = client.post(widget_url(member, channel_id, "/sessions"), json=body)
    assert response.status_code == 201, response.json
    return response.json


def start(client, member, channel_id: str, token: str, body: str = "Hello?") -> dict:
    response = client.post(
        widget_url(member, channel_id, "/conversations"), json={"body": body}, headers=bearer(token)
    )
    assert response.status_code == 201, response.json
    return response.json


def agent_says(client, member, conversation_id: str, body: str, **extra) -> dict:
    response = client.post(
        member.url(f"/conversations/{conversation_id}/messages"),
        json={"direction": "outbound", "sender_type": "agent", "body": body, **extra},
        headers=member.headers,
    )
    assert response.status_code == 201, response.json
    return response.json


def seen_messages(client, member, channel_id: str, token: str, conversation_id: str, **query):
    response = client.get(
        widget_url(member, channel_id, f"/conversations/{conversation_id}/messages"),
        query_string=query,
        headers=bearer(token),
    )
    assert response.status_code == 200, response.json
    return response.json


# -- sessions -------------------------------------------------------------------------------


def test_an_identified_visitor_becomes_the_contact_with_that_email(client, account):
    channel_id = widget_channel(client, account, secret=SECRET)
    email = contact_email("grace")
    known = client.post(
        account.url("/contacts"), json={"name": "Grace", "email": email}, headers=account.headers
    )
    assert known.status_code == 201, known.json
    session = open_session(
        client,
        account,
        channel_id,
        email=email.upper(),  # the hash is of the email as sent; the match ignores case
        identifier_hash=identifier_hash_of(SECRET, email.upper()),
    )
    assert session["contact_id"] == known.json["id"]
    assert session["expires_at"] and session["token"]
    listed = client.get(
        widget_url(account, channel_id, "/conversations"), headers=bearer(session["token"])
    )
    assert listed.status_code == 200 and listed.json == {"items": [], "has_more": False}

    newcomer = contact_email("ada")
    made = open_session(
        client,
        account,
        channel_id,
        email=newcomer,
        name="Ada",
        identifier_hash=identifier_hash_of(SECRET, newcomer).upper(),
    )
    contact = client.get(account.url(f"/contacts/{made['contact_id']}"), headers=account.headers)
    assert (contact.json["name"], contact.json["email"]) == ("Ada", newcomer)
    again = open_session(
        client,
        account,
        channel_id,
        email=newcomer,
        identifier_hash=identifier_hash_of(SECRET, newcomer),
    )
    assert again["contact_id"] == made["contact_id"]


def test_an_identified_visitor_with_an_unusable_email_is_a_422_naming_it(client, account):
    channel_id = widget_channel(client, account, secret=SECRET)
    email = unique_email("reserved")  # .test: a reserved domain, never a contact's
    response = client.post(
        widget_url(account, channel_id, "/sessions"),
        json={"email": email, "identifier_hash": identifier_hash_of(SECRET, email)},
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"email"}


def test_a_wrong_or_missing_hash_is_refused(client, account):
    channel_id = widget_channel(client, account, secret=SECRET)
    email = unique_email("mallory")
    url = widget_url(account, channel_id, "/sessions")
    wrong = client.post(
        url, json={"email": email, "identifier_hash": identifier_hash_of("guessed", email)}
    )
    assert wrong.status_code == 401 and wrong.json["code"] == "invalid_identifier_hash"
    other = client.post(
        url, json={"email": email, "identifier_hash": identifier_hash_of(SECRET, "x" + email)}
    )
    assert other.status_code == 401 and other.json["code"] == "invalid_identifier_hash"
    missing = client.post(url, json={"email": email})
    assert missing.status_code == 422 and "identifier_hash" in missing.json["errors"]
    contacts = client.get(account.url("/contacts"), headers=account.headers).json["items"]
    assert email not in {contact["email"] for contact in contacts}


def test_a_channel_without_a_secret_refuses_identified_sessions(client, account):
    channel_id = widget_channel(client, account)
    email = unique_email("eve")
    response = client.post(
        widget_url(account, channel_id, "/sessions"),
        json={"email": email, "identifier_hash": identifier_hash_of("", email)},
    )
    assert response.status_code == 409 and response.json["code"] == "identity_not_configured"


def test_anonymous_visitors_each_become_a_new_contact(client, account):
    channel_id = widget_channel(client, account, secret=SECRET)
    first = open_session(client, account, channel_id)
    second = open_session(client, account, channel_id, name="Lin")
    assert first["contact_id"] != second["contact_id"]
    names = [
        client.get(account.url(f"/contacts/{s['contact_id']}"), headers=account.headers).json[
            "name"
        ]
        for s in (first, second)
    ]
    assert names == ["Visitor", "Lin"]


def test_a_channel_requiring_identity_refuses_anonymous_visitors(client, account):
    channel_id = widget_channel(client, account, secret=SECRET, require_identity=True)
    response = client.post(widget_url(account, channel_id, "/sessions"), json={"name": "Anon"})
    assert response.status_code == 403 and response.json["code"] == "identity_required"


def test_only_in_app_channels_of_the_account_in_the_url_take_visitors(
    client, account, other_account
):
    email_channel = client.post(
        account.url("/channels"), json={"type": "email", "name": "Mail"}, headers=account.headers
    ).json["id"]
    theirs = widget_channel(client, other_account)
    for url in (
        widget_url(account, email_channel, "/sessions"),  # another type
        widget_url(account, theirs, "/sessions"),  # another account's channel
        widget_url(account, str(uuid.uuid4()), "/sessions"),
        f"/v1/widget/accounts/{uuid.uuid4()}/channels/{theirs}/sessions",
    ):
        response = client.post(url, json={})
        assert response.status_code == 404, url
        assert response.json["code"] == "channel_not_found", url


def test_a_disabled_channel_takes_no_visitors(client, account):
    channel_id = widget_channel(client, account)
    token = open_session(client, account, channel_id)["token"]
    client.patch(
        account.url(f"/channels/{channel_id}"), json={"enabled": False}, headers=account.headers
    )
    refused = client.post(widget_url(account, channel_id, "/sessions"), json={})
    assert refused.status_code == 403 and refused.json["code"] == "channel_disabled"
    listed = client.get(widget_url(account, channel_id, "/conversations"), headers=bearer(token))
    assert listed.status_code == 403 and listed.json["code"] == "channel_disabled"


def test_sessions_are_rate_limited_per_ip(make_app, account):
    limited = make_app(auth_rate_limit=2).test_client()
    channel_id = widget_channel(limited, account)
    answers = [
        limited.post(widget_url(account, channel_id, "/sessions"), json={}) for _ in range(3)
    ]
    refused = [a for a in answers if a.status_code == 429]
    assert refused and refused[0].json["code"] == "rate_limited"
    assert int(refused[0].headers["Retry-After"]) >= 1


def test_a_session_renews_for_the_same_contact(client, account):
    channel_id = widget_channel(client, account)
    session = open_session(client, account, channel_id)
    renewed = client.post(
        widget_url(account, channel_id, "/sessions/renew"), headers=bearer(session["token"])
    )
    assert renewed.status_code == 201, renewed.json
    assert renewed.json["contact_id"] == session["contact_id"]
    assert renewed.json["token"] != session["token"]


# -- the visitor's conversations ------------------------------------------------------------


def test_a_private_note_is_never_shown_to_the_contact(client, account):
    channel_id = widget_channel(client, account)
    token = open_session(client, account, channel_id, name="Grace")["token"]
    conversation = start(client, account, channel_id, token, "My order is late")
    assert conversation["status"] == "open"
    assert conversation["last_message"]["sender"] == {"type": "contact", "name": "Grace"}
    reply = agent_says(
        client, account, conversation["id"], "On its way!", metadata={"headers": {"X-Id": "1"}}
    )
    note = agent_says(
        client,
        account,
        conversation["id"],
        "Customer is grumpy, careful",
        private=True,
        mentions=[account.user_id],
    )
    page = seen_messages(client, account, channel_id, token, conversation["id"])
    assert [m["body"] for m in page["items"]] == ["My order is late", "On its way!"]
    shown = page["items"][1]
    assert shown == {
        "id": reply["id"],
        "conversation_id": conversation["id"],
        "body": "On its way!",
        "body_html": None,
        "sender": {"type": "agent", "name": "Owner"},  # by display name only
        "created_at": shown["created_at"],
    }
    listed = client.get(widget_url(account, channel_id, "/conversations"), headers=bearer(token))
    (item,) = listed.json["items"]
    assert item["last_message"]["id"] == reply["id"]  # not the later note
    cursor = seen_messages(
        client, account, channel_id, token, conversation["id"], after=reply["id"]
    )
    assert cursor["items"] == []
    by_note = client.get(
        widget_url(account, channel_id, f"/conversations/{conversation['id']}/messages"),
        query_string={"before": note["id"]},
        headers=bearer(token),
    )
    assert by_note.status_code == 422  # as if it did not exist


def test_another_contacts_conversation_is_not_found(client, account):
    channel_id = widget_channel(client, account)
    mine = open_session(client, account, channel_id)["token"]
    theirs = open_session(client, account, channel_id)["token"]
    conversation = start(client, account, channel_id, theirs)
    path = f"/conversations/{conversation['id']}/messages"
    read = client.get(widget_url(account, channel_id, path), headers=bearer(mine))
    assert read.status_code == 404 and read.json["code"] == "conversation_not_found"
    wrote = client.post(
        widget_url(account, channel_id, path), json={"body": "hi"}, headers=bearer(mine)
    )
    assert wrote.status_code == 404 and wrote.json["code"] == "conversation_not_found"
    listed = client.get(widget_url(account, channel_id, "/conversations"), headers=bearer(mine))
    assert listed.json["items"] == []


def test_a_token_works_only_for_its_own_account_and_channel(client, account, other_account):
    ours = widget_channel(client, account)
    second = widget_channel(client, account)
    theirs = widget_channel(client, other_account)
    their_token = open_session(client, other_account, theirs)["token"]
    for url in (
        widget_url(account, ours, "/conversations"),
        widget_url(account, theirs, "/conversations"),
        widget_url(other_account, second, "/conversations"),
    ):
        response = client.get(url, headers=bearer(their_token))
        assert response.status_code == 401, url
        assert response.json["code"] == "invalid_token", url
    own = client.get(
        widget_url(other_account, theirs, "/conversations"), headers=bearer(their_token)
    )
    assert own.status_code == 200


def test_agent_and_widget_tokens_are_not_interchangeable(client, account):
    channel_id = widget_channel(client, account)
    token = open_session(client, account, channel_id)["token"]
    as_widget = client.get(
        widget_url(account, channel_id, "/conversations"), headers=account.headers
    )
    assert as_widget.status_code == 401 and as_widget.json["code"] == "invalid_token"
    for path in ("/conversations", "/contacts"):
        as_agent = client.get(account.url(path), headers=bearer(token))
        assert as_agent.status_code == 401 and as_agent.json["code"] == "invalid_token"
    me = client.get("/v1/me/context", headers=bearer(token))
    assert me.status_code == 401
    missing = client.get(widget_url(account, channel_id, "/conversations"))
    assert missing.status_code == 401 and missing.json["code"] == "unauthenticated"


def test_a_visitors_message_is_an_inbound_message_the_agents_see(client, settle, account):
    channel_id = widget_channel(client, account)
    session = open_session(client, account, channel_id, name="Grace")
    conversation = start(client, account, channel_id, session["token"], "Hello?")
    path = f"/conversations/{conversation['id']}/messages"
    posted = client.post(
        widget_url(account, channel_id, path),
        json={"body": "Anyone?"},
        headers=bearer(session["token"]),
    )
    assert posted.status_code == 201, posted.json
    assert posted.json["sender"] == {"type": "contact", "name": "Grace"}
    seen = client.get(account.url(f"/conversations/{conversation['id']}"), headers=account.headers)
    assert seen.json["contact_id"] == session["contact_id"]
    assert seen.json["channel_id"] == channel_id
    assert seen.json["waiting_since"] is not None
    messages = client.get(account.url(path), headers=account.headers).json["items"]
    assert [(m["body"], m["direction"], m["sender_type"], m["sender_id"]) for m in messages] == [
        ("Hello?", "inbound", "contact", session["contact_id"]),
        ("Anyone?", "inbound", "contact", session["contact_id"]),
    ]
    assert messages[1]["id"] == posted.json["id"]
    settle()  # its events reach the consumers (assignment, automation, pushes...)
    inbox = client.get(account.url("/inbox"), headers=account.headers).json
    assert conversation["id"] in {item["id"] for item in inbox["items"]}


def test_the_contact_sees_a_status_of_their_own(client, account):
    channel_id = widget_channel(client, account)
    token = open_session(client, account, channel_id)["token"]
    conversation = start(client, account, channel_id, token)
    assigned = client.post(
        account.url(f"/conversations/{conversation['id']}/assign"),
        json={"assignee_id": account.user_id},
        headers=account.headers,
    )
    assert assigned.json["status"] == "assigned"
    (item,) = client.get(
        widget_url(account, channel_id, "/conversations"), headers=bearer(token)
    ).json["items"]
    assert (item["status"], item["agent_name"]) == ("open", "Owner")
    for status in ("resolved", "closed"):
        client.post(
            account.url(f"/conversations/{conversation['id']}/status"),
            json={"status": status},
            headers=account.headers,
        )
        (item,) = client.get(
            widget_url(account, channel_id, "/conversations"), headers=bearer(token)
        ).json["items"]
        assert item["status"] == status
    closed = client.post(
        widget_url(account, channel_id, f"/conversations/{conversation['id']}/messages"),
        json={"body": "Wait"},
        headers=bearer(token),
    )
    assert closed.status_code == 409 and closed.json["code"] == "conversation_closed"


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": "hi", "private": True}])
def test_a_visitor_writes_text_only(client, account, body):
    channel_id = widget_channel(client, account)
    token = open_session(client, account, channel_id)["token"]
    response = client.post(
        widget_url(account, channel_id, "/conversations"), json=body, headers=bearer(token)
    )
    assert response.status_code == 422, response.json
