"""Canned responses and templates: CRUD, validation, sandboxing, preview, roles, isolation."""

from __future__ import annotations

import uuid

import pytest

from helpdesk.errors import InvalidField
from helpdesk.replies import check_source, render


def canned(client, member, short_code="greet", body="Hi {{ contact.name }}!", **extra):
    return client.post(
        member.url("/canned-responses"),
        json={"short_code": short_code, "title": "Greeting", "body": body, **extra},
        headers=member.headers,
    )


def template(client, member, **fields):
    body = {
        "name": "Welcome",
        "subject": "Re: {{ conversation.subject }}",
        "body": "Dear {{ contact.name }} ({{ contact.company }}), {{ agent.name }} at "
        "{{ account.name }} here about {{ conversation.id }}.",
        **fields,
    }
    return client.post(member.url("/templates"), json=body, headers=member.headers)


def open_conversation(client, member):
    channel = client.post(
        member.url("/channels"), json={"type": "email", "name": "Support"}, headers=member.headers
    )
    assert channel.status_code == 201, channel.json
    contact = client.post(
        member.url("/contacts"),
        json={"name": "Grace Hopper", "email": "grace@navy.example", "company": "US Navy"},
        headers=member.headers,
    )
    assert contact.status_code == 201, contact.json
    conversation = client.post(
        member.url("/conversations"),
        json={
            "channel_id": channel.json["id"],
            "contact_id": contact.json["id"],
            "subject": "Broken compiler",
            "assignee_id": member.user_id,
        },
        headers=member.headers,
    )
    assert conversation.status_code == 201, conversation.json
    return conversation.json


def test_canned_response_crud_and_prefix_search(client, account):
    for code in ("greet", "greeting-long", "bye", "gr_x"):
        assert canned(client, account, short_code=code).status_code == 201
    listed = client.get(
        account.url("/canned-responses"),
        query_string={"filter": "short_code:startswith:gree"},
        headers=account.headers,
    )
    assert listed.status_code == 200, listed.json
    assert [i["short_code"] for i in listed.json["items"]] == ["greet", "greeting-long"]
    # "_" is literal in a prefix, not a wildcard.
    literal = client.get(
        account.url("/canned-responses"),
        query_string={"filter": "short_code:startswith:gr_"},
        headers=account.headers,
    )
    assert [i["short_code"] for i in literal.json["items"]] == ["gr_x"]
    everything = client.get(account.url("/canned-responses"), headers=account.headers)
    assert everything.json["meta"]["total"] == 4

    created = canned(client, account, short_code="thanks", body="Thanks!").json
    url = account.url(f"/canned-responses/{created['id']}")
    changed = client.patch(url, json={"title": "Thank you"}, headers=account.headers)
    assert changed.status_code == 200 and changed.json["title"] == "Thank you"
    assert client.get(url, headers=account.headers).json["title"] == "Thank you"
    assert client.delete(url, headers=account.headers).status_code == 204
    assert client.get(url, headers=account.headers).status_code == 404


def test_short_code_is_unique_per_account(client, account, other_account):
    assert canned(client, account).status_code == 201
    again = canned(client, account)
    assert again.status_code == 409
    assert again.json["code"] == "canned_response_short_code_taken"
    # Another account may use the same code.
    assert canned(client, other_account).status_code == 201
    bye = canned(client, account, short_code="bye").json
    clash = client.patch(
        account.url(f"/canned-responses/{bye['id']}"),
        json={"short_code": "greet"},
        headers=account.headers,
    )
    assert clash.status_code == 409


def test_unknown_variables_are_refused_naming_them(client, account):
    response = template(client, account, body="Hi {{ contact.phone }} {{ secret }}")
    assert response.status_code == 422
    message = response.json["errors"]["body"][0]
    assert "contact.phone" in message and "secret" in message
    bad_subject = template(client, account, subject="{{ user.password }}")
    assert bad_subject.status_code == 422 and "user" in bad_subject.json["errors"]["subject"][0]
    bad_canned = canned(client, account, body="{{ agent.email }}")
    assert bad_canned.status_code == 422 and "agent.email" in bad_canned.json["errors"]["body"][0]
    syntax = canned(client, account, body="{{ contact.name ")
    assert syntax.status_code == 422 and "body" in syntax.json["errors"]


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ contact.name.__class__ }}",
        "{{ contact['__class__'] }}",
        "{% set x = contact %}{{ x.name.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_sandbox_escapes_are_refused_at_save(client, account, body):
    response = template(client, account, body=body)
    assert response.status_code == 422, response.json
    assert "body" in response.json["errors"]


def test_render_refuses_unsafe_access_instead_of_crashing():
    with pytest.raises(InvalidField):
        render("{{ ''.__class__.__mro__ }}", {})
    with pytest.raises(InvalidField):
        render("{{ contact.name }}", {})  # StrictUndefined
    assert check_source("{{ contact.name | upper }}", field="body") == ["contact.name"]


def test_template_crud_and_variables(client, account):
    created = template(client, account)
    assert created.status_code == 201, created.json
    assert created.json["variables"] == [
        "account.name",
        "agent.name",
        "contact.company",
        "contact.name",
        "conversation.id",
        "conversation.subject",
    ]
    url = account.url(f"/templates/{created.json['id']}")
    changed = client.patch(
        url, json={"body": "Bye {{ contact.name }}", "subject": None}, headers=account.headers
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["variables"] == ["contact.name"] and changed.json["subject"] is None
    assert template(client, account, name="Other").status_code == 201
    duplicate = template(client, account)
    assert duplicate.status_code == 409 and duplicate.json["code"] == "template_name_taken"
    listed = client.get(account.url("/templates"), headers=account.headers)
    assert listed.json["meta"]["total"] == 2
    assert client.delete(url, headers=account.headers).status_code == 204
    assert client.get(url, headers=account.headers).status_code == 404


def test_preview_with_a_real_conversation_and_with_samples(client, account, agent):
    conversation = open_conversation(client, account)
    created = template(client, account).json
    preview = client.post(
        account.url(f"/templates/{created['id']}/preview"),
        json={"conversation_id": conversation["id"]},
        headers=agent.headers,
    )
    assert preview.status_code == 200, preview.json
    assert preview.json["subject"] == "Re: Broken compiler"
    body = preview.json["body"]
    assert "Dear Grace Hopper (US Navy)" in body
    assert conversation["id"] in body
    account_name = client.get(account.url(""), headers=account.headers).json["name"]
    assert f"at {account_name} here" in body

    sample = client.post(
        account.url(f"/templates/{created['id']}/preview"), json={}, headers=agent.headers
    )
    assert sample.status_code == 200
    assert "Dear Jane Doe (Example Inc.)" in sample.json["body"]

    missing = client.post(
        account.url(f"/templates/{created['id']}/preview"),
        json={"conversation_id": str(uuid.uuid4())},
        headers=agent.headers,
    )
    assert missing.status_code == 422


def test_agents_read_and_preview_but_cannot_manage(client, account, agent):
    created = canned(client, account).json
    tpl = template(client, account).json
    assert client.get(account.url("/canned-responses"), headers=agent.headers).status_code == 200
    assert (
        client.get(agent.url(f"/templates/{tpl['id']}"), headers=agent.headers).status_code == 200
    )
    assert canned(client, agent, short_code="mine").status_code == 403
    assert template(client, agent, name="Mine").status_code == 403
    patch = client.patch(
        agent.url(f"/canned-responses/{created['id']}"), json={"title": "x"}, headers=agent.headers
    )
    assert patch.status_code == 403
    assert (
        client.delete(agent.url(f"/templates/{tpl['id']}"), headers=agent.headers).status_code
        == 403
    )


def test_accounts_cannot_see_or_change_each_others_replies(client, account, agent, other_account):
    mine = canned(client, account).json
    tpl = template(client, account).json
    conversation = open_conversation(client, account)
    theirs = other_account
    for path in (f"/canned-responses/{mine['id']}", f"/templates/{tpl['id']}"):
        assert client.get(theirs.url(path), headers=theirs.headers).status_code == 404
        assert (
            client.patch(
                theirs.url(path),
                json={"title": "x"} if "canned" in path else {"name": "x"},
                headers=theirs.headers,
            ).status_code
            == 404
        )
        assert client.delete(theirs.url(path), headers=theirs.headers).status_code == 404
    preview = client.post(
        theirs.url(f"/templates/{tpl['id']}/preview"), json={}, headers=theirs.headers
    )
    assert preview.status_code == 404
    # Their own template cannot pull our conversation's data into a preview.
    own = template(client, theirs).json
    leak = client.post(
        theirs.url(f"/templates/{own['id']}/preview"),
        json={"conversation_id": conversation["id"]},
        headers=theirs.headers,
    )
    assert leak.status_code == 422
    for path in ("/canned-responses", "/templates"):
        listed = client.get(theirs.url(path), headers=theirs.headers).json
        assert all(item["id"] not in (mine["id"], tpl["id"]) for item in listed["items"])
    # Our agent cannot reach the other account at all.
    assert client.get(theirs.url("/templates"), headers=agent.headers).status_code == 404
    # Nor can they get in through our URL.
    assert client.get(account.url("/templates"), headers=theirs.headers).status_code == 404


def test_a_canned_response_renders_with_the_conversation_it_answers(
    client, account, agent, other_account
):
    conversation = open_conversation(client, account)
    created = canned(client, account, body="Hi {{ contact.name }}, {{ agent.name }} here.").json
    url = account.url(f"/canned-responses/{created['id']}/preview")
    rendered = client.post(url, json={"conversation_id": conversation["id"]}, headers=agent.headers)
    assert rendered.status_code == 200, rendered.json
    assert rendered.json["body"].startswith("Hi Grace Hopper, ")
    assert rendered.json["body"] != created["body"]

    sample = client.post(url, json={}, headers=agent.headers)
    assert sample.json["body"].startswith("Hi Jane Doe, ")

    # Another account's conversation is no conversation here; its canned responses neither.
    theirs = open_conversation(client, other_account)
    foreign = client.post(url, json={"conversation_id": theirs["id"]}, headers=agent.headers)
    assert (foreign.status_code, foreign.json["errors"]) == (
        422,
        {"conversation_id": ["no such conversation"]},
    )
    crossing = other_account.url(f"/canned-responses/{created['id']}/preview")
    assert client.post(crossing, json={}, headers=other_account.headers).status_code == 404
