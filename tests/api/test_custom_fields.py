"""Custom fields: definitions per account, typed values on contacts and conversations,
filters and sorts through the list grammar, safe changes, and isolation between accounts."""

from __future__ import annotations

import uuid

import pytest

from audit.service import SYSTEM
from crm.service import create_contact
from tenants.registry import registry
from tenants.session import tenant_session
from tests.api.test_conversations import setup_desk


def define(client, member, **fields):
    body = {"entity": "contact", "key": "plan", "label": "Plan", "type": "text", **fields}
    return client.post(member.url("/custom-fields"), json=body, headers=member.headers)


def defined(client, member, **fields):
    response = define(client, member, **fields)
    assert response.status_code == 201, response.json
    return response.json


def contact(client, member, **custom):
    return client.post(
        member.url("/contacts"),
        json={"name": "Ada", "custom_fields": custom},
        headers=member.headers,
    )


def made(client, member, **custom):
    response = contact(client, member, **custom)
    assert response.status_code == 201, response.json
    return response.json


def patch_contact(client, member, created, **custom):
    return client.patch(
        member.url(f"/contacts/{created['id']}"),
        json={"custom_fields": custom},
        headers=member.headers,
    )


def listed(client, member, *filters, sort=None, path="/contacts"):
    query = {"filter": list(filters), "per_page": 100}
    if sort:
        query["sort"] = sort
    response = client.get(member.url(path), headers=member.headers, query_string=query)
    assert response.status_code == 200, response.json
    return response.json["items"]


def refused(response, key):
    assert response.status_code == 422, response.json
    assert response.json["code"] == "validation_failed"
    assert f"custom_fields.{key}" in response.json["errors"], response.json
    return response.json["errors"][f"custom_fields.{key}"]


# --- definitions ---------------------------------------------------------------------


def test_owner_defines_changes_reorders_and_deletes_fields(client, account):
    plan = defined(
        client,
        account,
        key="plan",
        label="Plan",
        type="single_select",
        options=["free", "pro", "enterprise"],
        required=True,
        description="The subscription",
    )
    assert plan["position"] == 0
    assert plan["options"] == ["free", "pro", "enterprise"]
    seats = defined(client, account, key="seats", label="Seats", type="number")
    assert seats["position"] == 1
    topic = defined(client, account, entity="conversation", key="topic", label="Topic")
    assert topic["position"] == 0  # positions count per entity

    url = account.url(f"/custom-fields/{plan['id']}")
    changed = client.patch(url, json={"label": "Subscription"}, headers=account.headers)
    assert changed.status_code == 200, changed.json
    assert changed.json["label"] == "Subscription"
    assert changed.json["required"] is True  # what was not sent stays

    order = client.put(
        account.url("/custom-fields/order"),
        json={"entity": "contact", "ids": [seats["id"], plan["id"]]},
        headers=account.headers,
    )
    assert order.status_code == 200, order.json
    assert [(f["key"], f["position"]) for f in order.json["items"]] == [("seats", 0), ("plan", 1)]

    everything = client.get(account.url("/custom-fields"), headers=account.headers).json
    assert [f["key"] for f in everything["items"]] == ["seats", "plan", "topic"]
    only = client.get(
        account.url("/custom-fields"), headers=account.headers, query_string={"entity": "contact"}
    ).json
    assert [f["key"] for f in only["items"]] == ["seats", "plan"]

    assert client.delete(url, headers=account.headers).status_code == 204
    gone = client.get(url, headers=account.headers)
    assert gone.status_code == 404
    assert gone.json["code"] == "custom_field_not_found"


def test_definitions_are_audited(client, account):
    field = defined(client, account)
    url = account.url(f"/custom-fields/{field['id']}")
    client.patch(url, json={"label": "Tier"}, headers=account.headers)
    client.delete(url, headers=account.headers)
    log = client.get(
        account.url("/audit-log"),
        headers=account.headers,
        query_string={"filter": "target_type:eq:custom_field", "sort": "occurred_at"},
    ).json["items"]
    assert [e["action"] for e in log] == [
        "custom_field.created",
        "custom_field.updated",
        "custom_field.deleted",
    ]
    assert log[1]["after"] == {"label": "Tier"}


def test_agents_read_definitions_but_only_managers_change_them(client, account, agent):
    field = defined(client, account)
    url = agent.url(f"/custom-fields/{field['id']}")
    assert client.get(agent.url("/custom-fields"), headers=agent.headers).status_code == 200
    assert client.get(url, headers=agent.headers).json["key"] == "plan"
    for response in (
        define(client, agent, key="other"),
        client.patch(url, json={"label": "X"}, headers=agent.headers),
        client.delete(url, headers=agent.headers),
        client.put(
            agent.url("/custom-fields/order"),
            json={"entity": "contact", "ids": [field["id"]]},
            headers=agent.headers,
        ),
    ):
        assert response.status_code == 403, response.json
        assert response.json["errors"] == {"permission": ["settings:manage"]}
    assert client.get(url, headers=agent.headers).json["label"] == "Plan"


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"key": "Plan"}, "key"),
        ({"key": "1plan"}, "key"),
        ({"key": "p" * 65}, "key"),
        ({"entity": "deal"}, "entity"),
        ({"type": "colour"}, "type"),
        ({"type": "single_select"}, "options"),
        ({"type": "multi_select", "options": []}, "options"),
        ({"type": "single_select", "options": ["a", "a"]}, "options"),
        ({"type": "number", "options": ["a"]}, "options"),
        ({"type": "number", "regex": "^[0-9]+$"}, "regex"),
        ({"regex": "("}, "regex"),
        ({"regex": "^(a+)+$"}, "regex"),
        ({"regex": r"^(\w+)\1$"}, "regex"),
        ({"regex": "a" * 201}, "regex"),
    ],
)
def test_a_definition_that_cannot_work_is_refused_naming_the_field(client, account, fields, field):
    response = define(client, account, **fields)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]


def test_keys_are_unique_per_entity_and_cannot_be_renamed(client, account):
    field = defined(client, account)
    taken = define(client, account, label="Another plan")
    assert taken.status_code == 409
    assert taken.json["code"] == "custom_field_key_taken"
    assert "key" in taken.json["errors"]
    assert define(client, account, entity="conversation").status_code == 201

    url = account.url(f"/custom-fields/{field['id']}")
    renamed = client.patch(url, json={"key": "tier"}, headers=account.headers)
    assert renamed.status_code == 422
    assert "key" in renamed.json["errors"]
    moved = client.patch(url, json={"entity": "conversation"}, headers=account.headers)
    assert moved.status_code == 422
    assert "entity" in moved.json["errors"]
    same = client.patch(url, json={"key": "plan", "label": "Tier"}, headers=account.headers)
    assert same.status_code == 200


def test_reordering_must_name_every_field_once(client, account):
    first = defined(client, account, key="a")
    defined(client, account, key="b")
    response = client.put(
        account.url("/custom-fields/order"),
        json={"entity": "contact", "ids": [first["id"], first["id"]]},
        headers=account.headers,
    )
    assert response.status_code == 422
    assert "ids" in response.json["errors"]


# --- values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "definition,given,stored",
    [
        ({"type": "text"}, "hello", "hello"),
        ({"type": "text", "regex": "^[A-Z]{2}-[0-9]{4}$"}, "AB-1234", "AB-1234"),
        ({"type": "number"}, 12, 12),
        ({"type": "number"}, "12.5", 12.5),
        ({"type": "number"}, 3.0, 3),
        ({"type": "date"}, "2025-01-31", "2025-01-31"),
        ({"type": "date"}, "2025-01-31T10:00:00+02:00", "2025-01-31"),
        ({"type": "boolean"}, False, False),
        ({"type": "single_select", "options": ["free", "pro"]}, "pro", "pro"),
        (
            {"type": "multi_select", "options": ["red", "green", "blue"]},
            ["blue", "red", "blue"],
            ["red", "blue"],
        ),
        ({"type": "url"}, "https://example.com/a?b=1", "https://example.com/a?b=1"),
        ({"type": "email"}, " Ada@Example.COM ", "ada@example.com"),
        ({"type": "phone"}, "+44 (20) 7946-0958", "+442079460958"),
    ],
)
def test_values_are_checked_and_normalised_per_type(client, account, definition, given, stored):
    defined(client, account, key="value", **definition)
    created = made(client, account, value=given)
    assert created["custom_fields"] == {"value": stored}
    fetched = client.get(account.url(f"/contacts/{created['id']}"), headers=account.headers)
    assert fetched.json["custom_fields"] == {"value": stored}


@pytest.mark.parametrize(
    "definition,given",
    [
        ({"type": "text"}, 12),
        ({"type": "text"}, "x" * 1001),
        ({"type": "text", "regex": "^[A-Z]{2}-[0-9]{4}$"}, "ab-1234"),
        ({"type": "number"}, "twelve"),
        ({"type": "number"}, True),
        ({"type": "date"}, "31/01/2025"),
        ({"type": "date"}, "2025-02-30"),
        ({"type": "boolean"}, "yes"),
        ({"type": "single_select", "options": ["free", "pro"]}, "gold"),
        ({"type": "multi_select", "options": ["red"]}, ["red", "pink"]),
        ({"type": "multi_select", "options": ["red"]}, "red"),
        ({"type": "url"}, "javascript:alert(1)"),
        ({"type": "url"}, "example.com"),
        ({"type": "email"}, "not-an-email"),
        ({"type": "phone"}, "call me"),
    ],
)
def test_a_value_of_the_wrong_kind_is_a_422_naming_the_field(client, account, definition, given):
    defined(client, account, key="value", **definition)
    assert refused(contact(client, account, value=given), "value")


def test_unknown_keys_are_refused(client, account):
    assert refused(contact(client, account, colour="red"), "colour") == ["no such custom field"]


def test_required_fields_are_needed_on_creation_and_cannot_be_removed(client, account):
    defined(client, account, key="plan", required=True)
    defined(client, account, key="note")
    assert refused(contact(client, account, note="hi"), "plan") == ["required"]
    created = made(client, account, plan="pro")

    # A later change need not resend it...
    kept = patch_contact(client, account, created, note="vip")
    assert kept.status_code == 200
    assert kept.json["custom_fields"] == {"plan": "pro", "note": "vip"}
    # ...nor may it take it away.
    assert refused(patch_contact(client, account, created, plan=None), "plan") == ["required"]


def test_records_made_without_a_person_are_asked_for_required_fields_later(app, client, account):
    defined(client, account, key="plan", required=True)
    defined(client, account, key="note")
    # A widget visitor or a job cannot fill in a form: the contact is made without it...
    account_id = uuid.UUID(account.account_id)
    with app.app_context(), tenant_session(registry().get(account_id)) as session:
        visitor = create_contact(session, account_id=account_id, actor=SYSTEM, name="Visitor")
        made_by_job = {"id": str(visitor.id)}
    # ...and the next write of its custom fields asks for it.
    assert refused(patch_contact(client, account, made_by_job, note="x"), "plan") == ["required"]
    fixed = patch_contact(client, account, made_by_job, note="x", plan="pro")
    assert fixed.json["custom_fields"] == {"note": "x", "plan": "pro"}


def test_a_change_merges_key_by_key_and_null_removes(client, account):
    defined(client, account, key="plan")
    defined(client, account, key="seats", type="number")
    created = made(client, account, plan="pro", seats=3)
    changed = patch_contact(client, account, created, seats=5)
    assert changed.json["custom_fields"] == {"plan": "pro", "seats": 5}
    cleared = patch_contact(client, account, created, plan=None)
    assert cleared.json["custom_fields"] == {"seats": 5}
    renamed = client.patch(
        account.url(f"/contacts/{created['id']}"), json={"name": "Ada K"}, headers=account.headers
    )
    assert renamed.json["custom_fields"] == {"seats": 5}


def test_conversations_carry_their_own_fields(client, account):
    defined(client, account, entity="conversation", key="order", type="number", required=True)
    defined(client, account, entity="contact", key="plan")
    channel_id, contact_id = setup_desk(client, account)

    def open_one(**custom):
        return client.post(
            account.url("/conversations"),
            json={"channel_id": channel_id, "contact_id": contact_id, "custom_fields": custom},
            headers=account.headers,
        )

    assert refused(open_one(), "order") == ["required"]
    assert refused(open_one(order=1, plan="pro"), "plan") == ["no such custom field"]
    opened = open_one(order="42")
    assert opened.status_code == 201, opened.json
    assert opened.json["custom_fields"] == {"order": 42}
    assert opened.json["custom_attributes"] == {}  # free-form attributes stay separate

    url = account.url(f"/conversations/{opened.json['id']}")
    assert refused(
        client.patch(url, json={"custom_fields": {"order": "x"}}, headers=account.headers), "order"
    )
    patched = client.patch(
        url,
        json={"custom_fields": {"order": 43}, "custom_attributes": {"anything": "goes"}},
        headers=account.headers,
    )
    assert patched.status_code == 200, patched.json
    assert patched.json["custom_fields"] == {"order": 43}
    assert patched.json["custom_attributes"] == {"anything": "goes"}


# --- filters and sorts ---------------------------------------------------------------


@pytest.fixture
def crm(client, account):
    """Four contacts with a plan, seats, a renewal date, a flag and interests."""
    defined(client, account, key="plan", type="single_select", options=["free", "pro", "max"])
    defined(client, account, key="seats", type="number")
    defined(client, account, key="renews_on", type="date")
    defined(client, account, key="vip", type="boolean")
    defined(client, account, key="interests", type="multi_select", options=["a", "b", "c"])
    defined(client, account, key="note")
    rows = {
        "ada": {"plan": "pro", "seats": 12, "renews_on": "2025-03-01", "vip": True,
                "interests": ["a", "b"], "note": "Met at the fair"},
        "bob": {"plan": "free", "seats": 2, "renews_on": "2025-01-15", "vip": False},
        "cy": {"plan": "pro", "seats": 100, "renews_on": "2024-12-31", "interests": ["c"]},
        "di": {},
    }  # fmt: skip
    for name, values in rows.items():
        response = client.post(
            account.url("/contacts"),
            json={"name": name, "custom_fields": values},
            headers=account.headers,
        )
        assert response.status_code == 201, response.json
    return rows


def names(items):
    return [item["name"] for item in items]


@pytest.mark.parametrize(
    "expression,expected",
    [
        ("custom_fields.plan:eq:pro", {"ada", "cy"}),
        ("custom_fields.plan:ne:pro", {"bob", "di"}),
        ("custom_fields.plan:in:free,max", {"bob"}),
        ("custom_fields.plan:isnull:true", {"di"}),
        ("custom_fields.seats:gt:10", {"ada", "cy"}),
        ("custom_fields.seats:lte:12", {"ada", "bob"}),
        ("custom_fields.seats:eq:12", {"ada"}),
        ("custom_fields.seats:gte:12.5", {"cy"}),
        ("custom_fields.renews_on:lt:2025-01-31", {"bob", "cy"}),
        ("custom_fields.renews_on:gte:2025-03-01", {"ada"}),
        ("custom_fields.renews_on:eq:2025-01-15", {"bob"}),
        ("custom_fields.vip:eq:true", {"ada"}),
        ("custom_fields.vip:ne:true", {"bob", "cy", "di"}),
        ("custom_fields.interests:contains:b", {"ada"}),
        ("custom_fields.interests:in:b,c", {"ada", "cy"}),
        ("custom_fields.note:icontains:FAIR", {"ada"}),
        ("custom_fields.note:isnull:false", {"ada"}),
    ],
)
def test_custom_fields_filter_through_the_list_grammar(client, account, crm, expression, expected):
    assert set(names(listed(client, account, expression))) == expected


def test_filters_combine_with_the_built_in_ones(client, account, crm):
    both = listed(client, account, "custom_fields.plan:eq:pro", "name:eq:cy")
    assert names(both) == ["cy"]


def test_custom_fields_sort_by_their_type(client, account, crm):
    # Numbers sort as numbers (100 after 12), records without a value come last ascending.
    assert names(listed(client, account, sort="custom_fields.seats")) == ["bob", "ada", "cy", "di"]
    assert names(listed(client, account, sort="-custom_fields.renews_on,name")) == [
        "di",
        "ada",
        "bob",
        "cy",
    ]
    assert names(listed(client, account, sort="custom_fields.plan,-custom_fields.seats")) == [
        "bob",
        "cy",
        "ada",
        "di",
    ]


@pytest.mark.parametrize(
    "query,code",
    [
        ({"filter": "custom_fields.seats:gt:many"}, "invalid_filter"),
        ({"filter": "custom_fields.renews_on:lt:soon"}, "invalid_filter"),
        ({"filter": "custom_fields.vip:eq:yes"}, "invalid_filter"),
        ({"filter": "custom_fields.vip:gt:true"}, "invalid_filter"),
        ({"filter": "custom_fields.nothing:eq:1"}, "invalid_filter"),
        ({"sort": "custom_fields.interests"}, "invalid_sort"),
        ({"sort": "custom_fields.nothing"}, "invalid_sort"),
    ],
)
def test_bad_custom_field_filters_and_sorts_are_400(client, account, crm, query, code):
    response = client.get(account.url("/contacts"), headers=account.headers, query_string=query)
    assert response.status_code == 400, response.json
    assert response.json["code"] == code


def test_conversations_filter_and_sort_by_their_fields(client, account):
    defined(client, account, entity="conversation", key="order", type="number")
    channel_id, contact_id = setup_desk(client, account)
    for order in (5, 50, None):
        body = {"channel_id": channel_id, "contact_id": contact_id, "subject": f"#{order}"}
        if order is not None:
            body["custom_fields"] = {"order": order}
        assert client.post(account.url("/conversations"), json=body, headers=account.headers)
    path = "/conversations"
    found = listed(client, account, "custom_fields.order:gte:10", path=path)
    assert [c["subject"] for c in found] == ["#50"]
    ordered = listed(client, account, sort="-custom_fields.order", path=path)
    assert [c["subject"] for c in ordered] == ["#None", "#50", "#5"]


# --- changing and deleting definitions ------------------------------------------------


def test_deleting_a_definition_removes_its_values(client, account):
    plan = defined(client, account, key="plan")
    defined(client, account, key="seats", type="number")
    created = made(client, account, plan="pro", seats=3)
    client.delete(account.url(f"/custom-fields/{plan['id']}"), headers=account.headers)

    fetched = client.get(account.url(f"/contacts/{created['id']}"), headers=account.headers)
    assert fetched.json["custom_fields"] == {"seats": 3}
    bad = client.get(
        account.url("/contacts"),
        headers=account.headers,
        query_string={"filter": "custom_fields.plan:eq:pro"},
    )
    assert bad.status_code == 400  # no longer a field
    defined(client, account, key="plan")  # the key may be defined again, and starts empty
    assert listed(client, account, "custom_fields.plan:isnull:false") == []


def test_changing_a_definition_keeps_values_until_the_record_is_written(client, account):
    field = defined(client, account, key="tier", type="single_select", options=["a", "b"])
    defined(client, account, key="note")
    created = made(client, account, tier="b")
    url = account.url(f"/custom-fields/{field['id']}")
    changed = client.patch(url, json={"options": ["a", "c"]}, headers=account.headers)
    assert changed.status_code == 200, changed.json

    # Nothing is rewritten: the old value reads back, and still filters.
    fetched = client.get(account.url(f"/contacts/{created['id']}"), headers=account.headers)
    assert fetched.json["custom_fields"] == {"tier": "b"}
    assert names(listed(client, account, "custom_fields.tier:eq:b")) == ["Ada"]
    # Writing other fields of the record leaves the custom fields alone...
    renamed = client.patch(
        account.url(f"/contacts/{created['id']}"), json={"name": "Ada K"}, headers=account.headers
    )
    assert renamed.status_code == 200
    # ...but the next write of its custom fields re-checks the stale value.
    assert "not one of" in refused(patch_contact(client, account, created, note="x"), "tier")[0]
    fixed = patch_contact(client, account, created, note="x", tier="c")
    assert fixed.json["custom_fields"] == {"tier": "c", "note": "x"}


def test_a_type_change_never_breaks_filters_on_old_values(client, account):
    field = defined(client, account, key="size")
    made(client, account, size="large")
    changed = client.patch(
        account.url(f"/custom-fields/{field['id']}"),
        json={"type": "number"},
        headers=account.headers,
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["options"] == [] and changed.json["regex"] is None
    # The text value is not a number: it matches no comparison and sorts as no value.
    assert listed(client, account, "custom_fields.size:gt:1") == []
    assert len(listed(client, account, sort="custom_fields.size")) == 1


def test_switching_to_a_select_type_needs_options(client, account):
    field = defined(client, account, key="size")
    url = account.url(f"/custom-fields/{field['id']}")
    response = client.patch(url, json={"type": "single_select"}, headers=account.headers)
    assert response.status_code == 422
    assert "options" in response.json["errors"]
    response = client.patch(
        url, json={"type": "single_select", "options": ["s", "m"]}, headers=account.headers
    )
    assert response.status_code == 200
    assert response.json["options"] == ["s", "m"]


# --- isolation -----------------------------------------------------------------------


class TestIsolation:
    def test_another_account_neither_reads_nor_changes_our_definitions(
        self, client, account, other_account
    ):
        ours = defined(client, account, key="secret_plan")
        for method, path in (
            ("GET", "/custom-fields"),
            ("GET", f"/custom-fields/{ours['id']}"),
            ("PATCH", f"/custom-fields/{ours['id']}"),
            ("DELETE", f"/custom-fields/{ours['id']}"),
        ):
            response = client.open(
                account.url(path), method=method, json={}, headers=other_account.headers
            )
            assert response.status_code == 404, (method, path)
            assert response.json["code"] == "account_not_found"

    def test_our_ids_and_keys_are_unknown_in_theirs(self, client, account, other_account):
        ours = defined(client, account, key="secret_plan")
        made(client, account, secret_plan="x")
        theirs = other_account.url(f"/custom-fields/{ours['id']}")
        unknown = other_account.url(f"/custom-fields/{uuid.uuid4()}")
        for url in (theirs, unknown):
            for method in ("GET", "PATCH", "DELETE"):
                response = client.open(
                    url, method=method, json={"label": "x"}, headers=other_account.headers
                )
                assert response.status_code == 404
                assert response.json["code"] == "custom_field_not_found"
        listing = client.get(other_account.url("/custom-fields"), headers=other_account.headers)
        assert listing.json["items"] == []
        # Their contacts know nothing of our keys: the same answer as any unknown key.
        assert refused(contact(client, other_account, secret_plan="x"), "secret_plan")
        bad = client.get(
            other_account.url("/contacts"),
            headers=other_account.headers,
            query_string={"filter": "custom_fields.secret_plan:isnull:false"},
        )
        assert bad.status_code == 400
        # And the same key is free for them.
        assert define(client, other_account, key="secret_plan").status_code == 201
        assert client.get(account.url(f"/custom-fields/{ours['id']}"), headers=account.headers)

    def test_their_agents_see_only_their_own(self, client, account, other_account, add_member):
        defined(client, account, key="ours")
        defined(client, other_account, key="theirs")
        their_agent = add_member(other_account.account_id, "agent")
        seen = client.get(their_agent.url("/custom-fields"), headers=their_agent.headers)
        assert [f["key"] for f in seen.json["items"]] == ["theirs"]
        ours = client.get(account.url("/custom-fields"), headers=their_agent.headers)
        assert ours.status_code == 404
