"""Contacts: CRUD, per-account uniqueness, and isolation between accounts."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from events.outbox import OutboxEvent
from tenants.db import db


def create(client, member, **fields):
    body = {"name": "Ada Lovelace", **fields}
    return client.post(member.url("/contacts"), json=body, headers=member.headers)


def test_owner_creates_reads_updates_and_deletes_a_contact(client, account):
    created = create(
        client,
        account,
        email="Ada@Example.COM",
        phone="+44 (20) 7946-0958",
        company="Analytical Engines",
    )
    assert created.status_code == 201
    contact = created.json
    assert contact["email"] == "ada@example.com"
    assert contact["phone"] == "+442079460958"
    url = account.url(f"/contacts/{contact['id']}")

    fetched = client.get(url, headers=account.headers)
    assert fetched.status_code == 200
    assert fetched.json["company"] == "Analytical Engines"

    patched = client.patch(url, json={"company": None, "name": "Ada King"}, headers=account.headers)
    assert patched.status_code == 200
    assert patched.json["name"] == "Ada King"
    assert patched.json["company"] is None
    assert patched.json["updated_at"] >= contact["updated_at"]

    assert client.delete(url, headers=account.headers).status_code == 204
    gone = client.get(url, headers=account.headers)
    assert gone.status_code == 404
    assert gone.json["code"] == "contact_not_found"


def test_agents_work_on_their_accounts_contacts(client, account, agent):
    contact = create(client, account, email="shared@example.com").json
    seen = client.get(agent.url(f"/contacts/{contact['id']}"), headers=agent.headers)
    assert seen.status_code == 200
    made = create(client, agent, name="Grace", email="grace@example.com")
    assert made.status_code == 201
    listed = client.get(account.url("/contacts"), headers=account.headers).json
    assert {c["email"] for c in listed["items"]} == {"shared@example.com", "grace@example.com"}


@pytest.mark.parametrize(
    "field,first,second",
    [
        ("email", "dup@example.com", "DUP@example.com"),
        ("phone", "+1 415 555 0100", "+1-415-555-0100"),
    ],
)
def test_email_and_phone_are_unique_within_an_account(client, account, field, first, second):
    assert create(client, account, **{field: first}).status_code == 201
    clash = create(client, account, name="Other", **{field: second})
    assert clash.status_code == 409
    assert clash.json["code"] == f"contact_{field}_taken"
    assert field in clash.json["errors"]
    listed = client.get(account.url("/contacts"), headers=account.headers).json
    assert listed["meta"]["total"] == 1


def test_the_same_email_may_exist_in_two_accounts(client, account, other_account):
    assert create(client, account, email="same@example.com").status_code == 201
    assert create(client, other_account, email="same@example.com").status_code == 201


def test_update_to_a_taken_email_is_a_conflict_and_changes_nothing(client, account):
    create(client, account, email="first@example.com")
    second = create(client, account, name="Second", email="second@example.com").json
    url = account.url(f"/contacts/{second['id']}")
    clash = client.patch(url, json={"email": "first@example.com"}, headers=account.headers)
    assert clash.status_code == 409
    assert client.get(url, headers=account.headers).json["email"] == "second@example.com"


def test_invalid_fields_are_named(client, account):
    response = create(client, account, name="", email="not-an-email", phone="abc", extra=1)
    assert response.status_code == 422
    assert response.json["code"] == "validation_failed"
    assert set(response.json["errors"]) == {"name", "email", "phone", "extra"}


class TestIsolation:
    """Neither account can read, change, delete or detect the other's contacts."""

    @pytest.fixture
    def theirs(self, client, other_account):
        return create(client, other_account, email="secret@globex.example").json

    @pytest.mark.parametrize("who", ["account", "agent"])
    def test_foreign_contact_is_indistinguishable_from_a_missing_one(
        self, request, client, theirs, who
    ):
        me = request.getfixturevalue(who)
        foreign = me.url(f"/contacts/{theirs['id']}")
        missing = me.url(f"/contacts/{uuid.uuid4()}")
        for method, kwargs in [("get", {}), ("patch", {"json": {"name": "x"}}), ("delete", {})]:
            a = getattr(client, method)(foreign, headers=me.headers, **kwargs)
            b = getattr(client, method)(missing, headers=me.headers, **kwargs)
            # An agent may not delete at all: refused alike, before any lookup.
            expected = 403 if (who, method) == ("agent", "delete") else 404
            assert a.status_code == b.status_code == expected
            assert {k: v for k, v in a.json.items() if k != "request_id"} == {
                k: v for k, v in b.json.items() if k != "request_id"
            }

    @pytest.mark.parametrize("who", ["account", "agent"])
    def test_lists_and_filters_never_show_the_other_account(self, request, client, theirs, who):
        me = request.getfixturevalue(who)
        listed = client.get(
            me.url("/contacts"),
            query_string={"filter": "email:eq:secret@globex.example"},
            headers=me.headers,
        ).json
        assert listed["meta"]["total"] == 0
        # Their email is free in our account: uniqueness does not leak across accounts.
        assert create(client, me, email="secret@globex.example").status_code == 201

    @pytest.mark.parametrize("who", ["account", "agent"])
    def test_the_other_accounts_urls_answer_like_an_unknown_account(
        self, request, client, other_account, theirs, who
    ):
        me = request.getfixturevalue(who)
        theirs_url = f"/v1/accounts/{other_account.account_id}/contacts/{theirs['id']}"
        unknown_url = f"/v1/accounts/{uuid.uuid4()}/contacts/{theirs['id']}"
        for url in (theirs_url, unknown_url):
            response = client.get(url, headers=me.headers)
            assert response.status_code == 404
            assert response.json["code"] == "account_not_found"
        posted = client.post(
            f"/v1/accounts/{other_account.account_id}/contacts",
            json={"name": "Intruder"},
            headers=me.headers,
        )
        assert posted.status_code == 404
        listed = client.get(other_account.url("/contacts"), headers=other_account.headers).json
        assert [c["name"] for c in listed["items"]] == ["Ada Lovelace"]


def test_agents_may_not_delete_contacts_but_admins_may(client, account, agent, add_member):
    contact = create(client, account, email="keep@example.com").json
    url = f"/contacts/{contact['id']}"
    denied = client.delete(agent.url(url), headers=agent.headers)
    assert denied.status_code == 403
    assert denied.json["code"] == "permission_denied"
    assert denied.json["errors"] == {"permission": ["contacts:delete"]}
    assert client.get(agent.url(url), headers=agent.headers).status_code == 200
    admin = add_member(account.account_id, "admin")
    assert client.delete(admin.url(url), headers=admin.headers).status_code == 204


def contact_events(app, member):
    with app.app_context():
        rows = db.session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.account_id == uuid.UUID(member.account_id),
                OutboxEvent.subject_type == "contact",
            )
            .order_by(OutboxEvent.occurred_at)
        )
        return [(e.name, str(e.subject_id), e.actor_id, e.payload) for e in rows]


def test_every_contact_change_emits_its_event_with_before_and_after(
    app, client, account, agent, other_account
):
    contact = create(client, agent, email="ada@example.com").json
    url = agent.url(f"/contacts/{contact['id']}")
    client.patch(url, json={"company": "Engines", "name": "Ada Lovelace"}, headers=agent.headers)
    client.patch(url, json={"company": "Engines"}, headers=agent.headers)  # no change: no event
    client.delete(account.url(f"/contacts/{contact['id']}"), headers=account.headers)

    created, updated, deleted = contact_events(app, account)
    agent_id, owner_id = uuid.UUID(agent.user_id), uuid.UUID(account.user_id)
    assert created[:3] == ("contact.created", contact["id"], agent_id)
    assert created[3]["email"] == [None, "ada@example.com"]
    assert updated[:3] == ("contact.updated", contact["id"], agent_id)
    assert updated[3] == {"company": [None, "Engines"]}
    assert deleted[:3] == ("contact.deleted", contact["id"], owner_id)
    assert deleted[3]["name"] == ["Ada Lovelace", None]
    assert contact_events(app, other_account) == []


def test_a_refused_contact_change_emits_nothing(app, client, account):
    create(client, account, email="taken@example.com")
    other = create(client, account, email="free@example.com").json
    before = contact_events(app, account)
    refused = client.patch(
        account.url(f"/contacts/{other['id']}"),
        json={"email": "taken@example.com"},
        headers=account.headers,
    )
    assert refused.status_code == 409
    assert contact_events(app, account) == before
