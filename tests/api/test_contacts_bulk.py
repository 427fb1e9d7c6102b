"""Bulk operations on contacts: batches of creations, changes and deletions reported item
by item, all or nothing or best effort; tagging many contacts by ids or by a filter."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from events.outbox import OutboxEvent
from tenants.db import db


def bulk(client, member, operation, items, **extra):
    body = {"operation": operation, "items": items, **extra}
    return client.post(member.url("/contacts/bulk"), json=body, headers=member.headers)


def bulk_tags(client, member, **body):
    return client.post(member.url("/contacts/bulk/tags"), json=body, headers=member.headers)


def create(client, member, **fields):
    body = {"name": "Ada Lovelace", **fields}
    response = client.post(member.url("/contacts"), json=body, headers=member.headers)
    assert response.status_code == 201, response.json
    return response.json


def contacts(client, member, *filters):
    response = client.get(
        member.url("/contacts"),
        query_string={"filter": list(filters), "per_page": 100},
        headers=member.headers,
    )
    return response.json


def tags_of(client, member, contact_id):
    url = member.url(f"/contacts/{contact_id}/tags")
    return client.get(url, headers=member.headers).json["tags"]


def events(app, member, *names):
    with app.app_context():
        rows = db.session.scalars(
            select(OutboxEvent)
            .where(
                OutboxEvent.account_id == uuid.UUID(member.account_id),
                OutboxEvent.subject_type == "contact",
                OutboxEvent.name.in_(names),
            )
            .order_by(OutboxEvent.occurred_at)
        )
        return [(e.name, str(e.subject_id), str(e.actor_id), e.payload) for e in rows]


def audit(client, member, action):
    response = client.get(
        member.url("/audit-log"),
        query_string={"filter": f"action:eq:{action}", "per_page": 100},
        headers=member.headers,
    )
    assert response.status_code == 200, response.json
    return response.json["items"]


def statuses(report):
    return [(item["index"], item["status"]) for item in report["items"]]


# -- creating -------------------------------------------------------------------------


def test_a_thousand_contacts_are_created_in_one_call_and_a_thousand_and_one_refused(
    client, account
):
    items = [{"name": f"Contact {i}", "email": f"c{i}@example.com"} for i in range(1000)]
    response = bulk(client, account, "create", items)
    assert response.status_code == 200, response.json
    assert response.json["applied"] is True
    assert response.json["counts"] == {"ok": 1000, "error": 0, "not_applied": 0, "total": 1000}
    first = response.json["items"][0]
    assert first["status"] == "ok"
    fetched = client.get(account.url(f"/contacts/{first['id']}"), headers=account.headers)
    assert fetched.json["email"] == "c0@example.com"
    assert contacts(client, account)["meta"]["total"] == 1000

    items.append({"name": "One too many", "email": "c1000@example.com"})
    refused = bulk(client, account, "create", items)
    assert refused.status_code == 422
    assert refused.json["code"] == "too_many_items"
    assert refused.json["errors"] == {"items": ["at most 1000 items"]}
    assert contacts(client, account)["meta"]["total"] == 1000


@pytest.fixture
def mixed_batch(client, account):
    """Two good items, an invalid phone, a duplicate of an existing contact's email and a
    duplicate of an earlier item's email."""
    existing = create(client, account, name="Existing", email="taken@example.com")
    items = [
        {"name": "Grace Hopper", "email": "grace@example.com", "phone": "+1 415 555 0100"},
        {"name": "Bad Phone", "phone": "abc"},
        {"name": "Taken", "email": "TAKEN@example.com"},
        {"name": "Alan Turing", "email": "alan@example.com"},
        {"name": "Alan Again", "email": "Alan@Example.com"},
    ]
    return existing, items


def test_all_or_nothing_writes_nothing_and_names_every_failing_item(
    app, client, account, mixed_batch
):
    existing, items = mixed_batch
    response = bulk(client, account, "create", items)

    assert response.status_code == 422  # not only duplicates: a validation failure too
    assert response.json["code"] == "bulk_rejected"
    assert response.json["message"] == "Nothing was written: 3 item(s) failed (index 1, 2, 4)."
    report = response.json["report"]
    assert report["applied"] is False
    assert statuses(report) == [
        (0, "not_applied"),
        (1, "error"),
        (2, "error"),
        (3, "not_applied"),
        (4, "error"),
    ]
    assert report["counts"] == {"ok": 0, "error": 3, "not_applied": 2, "total": 5}
    bad_phone, taken, twin = (report["items"][i]["error"] for i in (1, 2, 4))
    assert bad_phone["code"] == "validation_failed"
    assert set(bad_phone["errors"]) == {"phone"}
    assert taken["code"] == "contact_email_taken"
    assert taken["duplicate_of"] == existing["id"]
    assert twin["code"] == "contact_email_taken"
    assert twin["duplicate_of_index"] == 3
    assert "duplicate_of" not in twin  # item 3 was rolled back: no such contact
    assert all("id" not in item for item in report["items"])

    assert contacts(client, account)["meta"]["total"] == 1  # only the existing one
    assert [e[1] for e in events(app, account, "contact.created")] == [existing["id"]]
    assert len(audit(client, account, "contact.created")) == 1


def test_an_all_or_nothing_batch_failing_only_on_duplicates_is_a_conflict(client, account):
    create(client, account, email="taken@example.com")
    response = bulk(
        client,
        account,
        "create",
        [
            {"name": "New", "email": "new@example.com"},
            {"name": "Dup", "email": "taken@example.com"},
        ],
    )
    assert response.status_code == 409
    assert response.json["code"] == "bulk_rejected"
    assert statuses(response.json["report"]) == [(0, "not_applied"), (1, "error")]


def test_best_effort_keeps_the_good_items(client, account, mixed_batch):
    existing, items = mixed_batch
    response = bulk(client, account, "create", items, mode="best_effort")

    assert response.status_code == 200
    report = response.json
    assert report["applied"] is True
    assert statuses(report) == [(0, "ok"), (1, "error"), (2, "error"), (3, "ok"), (4, "error")]
    assert report["counts"] == {"ok": 2, "error": 3, "not_applied": 0, "total": 5}
    alan = report["items"][3]["id"]
    twin = report["items"][4]["error"]
    assert twin["duplicate_of"] == alan and twin["duplicate_of_index"] == 3
    assert report["items"][2]["error"]["duplicate_of"] == existing["id"]
    listed = contacts(client, account)
    assert {c["email"] for c in listed["items"]} == {
        "taken@example.com",
        "grace@example.com",
        "alan@example.com",
    }
    grace = client.get(
        account.url(f"/contacts/{report['items'][0]['id']}"), headers=account.headers
    )
    assert grace.json["phone"] == "+14155550100"  # normalised as a single creation is


def test_items_are_checked_like_the_single_endpoints_bodies_custom_fields_included(client, account):
    made = client.post(
        account.url("/custom-fields"),
        json={
            "entity": "contact",
            "key": "plan",
            "label": "Plan",
            "type": "single_select",
            "options": ["free", "pro"],
            "required": True,
        },
        headers=account.headers,
    )
    assert made.status_code == 201, made.json
    response = bulk(
        client,
        account,
        "create",
        [
            {"name": "Pro", "custom_fields": {"plan": "pro"}},
            {"name": "Missing plan"},
            {"name": "Bad plan", "custom_fields": {"plan": "gold"}},
            {"name": "", "extra": 1, "custom_fields": {"plan": "free"}},
        ],
        mode="best_effort",
    )
    assert response.status_code == 200
    report = response.json
    assert statuses(report) == [(0, "ok"), (1, "error"), (2, "error"), (3, "error")]
    assert set(report["items"][1]["error"]["errors"]) == {"custom_fields.plan"}
    assert set(report["items"][2]["error"]["errors"]) == {"custom_fields.plan"}
    assert set(report["items"][3]["error"]["errors"]) == {"name", "extra"}


def test_a_malformed_request_is_refused_as_a_whole(client, account):
    assert bulk(client, account, "merge", [{}]).status_code == 422
    assert bulk(client, account, "create", []).status_code == 422
    assert bulk(client, account, "create", [{"name": "x"}], mode="some").status_code == 422


# -- changing and deleting ------------------------------------------------------------


def test_update_and_delete_in_bulk(app, client, account):
    a = create(client, account, name="A", email="a@example.com")
    b = create(client, account, name="B", email="b@example.com")
    c = create(client, account, name="C", email="c@example.com")

    updated = bulk(
        client,
        account,
        "update",
        [
            {"id": a["id"], "company": "Engines"},
            {"id": b["id"], "email": "B2@Example.com", "name": "Bee"},
            {"id": c["id"], "email": "a@example.com"},  # a's: refused
            {"id": str(uuid.uuid4()), "name": "Nobody"},
            {"name": "No id"},
        ],
        mode="best_effort",
    )
    assert updated.status_code == 200, updated.json
    report = updated.json
    assert statuses(report) == [(0, "ok"), (1, "ok"), (2, "error"), (3, "error"), (4, "error")]
    assert report["items"][1]["id"] == b["id"]
    assert report["items"][2]["error"]["duplicate_of"] == a["id"]
    assert report["items"][3]["error"]["code"] == "contact_not_found"
    assert set(report["items"][4]["error"]["errors"]) == {"id"}
    listed = {x["id"]: x for x in contacts(client, account)["items"]}
    assert listed[a["id"]]["company"] == "Engines"
    assert (listed[b["id"]]["name"], listed[b["id"]]["email"]) == ("Bee", "b2@example.com")
    assert listed[c["id"]]["email"] == "c@example.com"

    deleted = bulk(client, account, "delete", [{"id": a["id"]}, {"id": b["id"]}])
    assert deleted.status_code == 200, deleted.json
    assert statuses(deleted.json) == [(0, "ok"), (1, "ok")]
    assert [x["id"] for x in contacts(client, account)["items"]] == [c["id"]]

    again = bulk(client, account, "delete", [{"id": a["id"]}, {"id": c["id"]}])
    assert again.status_code == 422
    assert statuses(again.json["report"]) == [(0, "error"), (1, "not_applied")]
    assert again.json["report"]["items"][0]["error"]["code"] == "contact_not_found"
    assert [x["id"] for x in contacts(client, account)["items"]] == [c["id"]]


def test_every_contact_of_a_batch_gets_its_event_and_audit_entry(app, client, account, agent):
    created = bulk(
        client,
        agent,
        "create",
        [{"name": "One", "email": "one@example.com"}, {"name": "Two", "email": "two@example.com"}],
    ).json
    one, two = (item["id"] for item in created["items"])
    bulk(client, agent, "update", [{"id": one, "company": "Engines"}, {"id": two, "name": "Two"}])
    bulk(client, account, "delete", [{"id": one}, {"id": two}])

    trail = events(app, account, "contact.created", "contact.updated", "contact.deleted")
    assert [(name, subject, actor) for name, subject, actor, _ in trail] == [
        ("contact.created", one, agent.user_id),
        ("contact.created", two, agent.user_id),
        ("contact.updated", one, agent.user_id),  # two's "change" changed nothing: no event
        ("contact.deleted", one, account.user_id),
        ("contact.deleted", two, account.user_id),
    ]
    assert trail[0][3]["email"] == [None, "one@example.com"]
    assert trail[2][3] == {"company": [None, "Engines"]}
    for action, expected in [("created", {one, two}), ("updated", {one}), ("deleted", {one, two})]:
        entries = audit(client, account, f"contact.{action}")
        assert {e["target_id"] for e in entries} == expected, action


# -- tags -----------------------------------------------------------------------------


@pytest.fixture
def three(client, account):
    return [
        create(client, account, name="A", email="a@example.com", company="Engines"),
        create(client, account, name="B", email="b@example.com", company="Engines"),
        create(client, account, name="C", email="c@example.com", company="Looms"),
    ]


def test_tag_and_untag_by_ids(app, client, account, three):
    a, b, c = (x["id"] for x in three)
    tagged = bulk_tags(client, account, add=["VIP", "beta"], ids=[a, b])
    assert tagged.status_code == 200, tagged.json
    assert tagged.json == {"matched": 2, "changed": 2, "added": 4, "removed": 0, "not_found": []}
    assert tags_of(client, account, a) == ["beta", "VIP"]
    assert tags_of(client, account, c) == []

    again = bulk_tags(client, account, add=["vip"], ids=[a, b, c])
    assert again.json == {"matched": 3, "changed": 1, "added": 1, "removed": 0, "not_found": []}

    untagged = bulk_tags(client, account, remove=["VIP", "never-used"], ids=[a, c])
    assert untagged.json == {"matched": 2, "changed": 2, "added": 0, "removed": 2, "not_found": []}
    assert tags_of(client, account, a) == ["beta"]
    assert tags_of(client, account, b) == ["beta", "VIP"]

    trail = events(app, account, "tag.added", "tag.removed")
    assert sorted((name, subject, payload["tag"]) for name, subject, _, payload in trail) == sorted(
        [
            ("tag.added", a, "VIP"),
            ("tag.added", a, "beta"),
            ("tag.added", b, "VIP"),
            ("tag.added", b, "beta"),
            ("tag.added", c, "VIP"),
            ("tag.removed", a, "VIP"),
            ("tag.removed", c, "VIP"),
        ]
    )
    assert all(actor == account.user_id for _, _, actor, _ in trail)


def test_tag_by_filter_uses_the_list_grammar(client, account, three):
    a, b, c = (x["id"] for x in three)
    tagged = bulk_tags(client, account, add=["engineers"], filter="company:eq:Engines")
    assert tagged.status_code == 200, tagged.json
    assert tagged.json == {"matched": 2, "changed": 2, "added": 2, "removed": 0}
    assert [tags_of(client, account, x) for x in (a, b, c)] == [["engineers"], ["engineers"], []]

    untagged = bulk_tags(
        client, account, remove=["engineers"], filter=["company:eq:Engines", "name:eq:A"]
    )
    assert untagged.json["changed"] == 1
    assert tags_of(client, account, a) == []

    bad = bulk_tags(client, account, add=["x"], filter="colour:eq:red")
    assert bad.status_code == 400
    assert bad.json["code"] == "invalid_filter"


def test_tagging_by_filter_is_limited(client, account, three, monkeypatch):
    monkeypatch.setattr("api.contacts_bulk.MAX_TAGGED", 2)
    refused = bulk_tags(client, account, add=["many"], filter="name:isnull:false")
    assert refused.status_code == 422
    assert refused.json["code"] == "too_many_contacts"
    assert all(tags_of(client, account, x["id"]) == [] for x in three)


def test_a_tags_request_names_ids_or_a_filter_and_some_tags(client, account, three):
    ids = [three[0]["id"]]
    assert bulk_tags(client, account, add=["x"]).status_code == 422
    assert bulk_tags(client, account, add=["x"], ids=ids, filter="name:eq:A").status_code == 422
    assert bulk_tags(client, account, ids=ids).status_code == 422
    both = bulk_tags(client, account, add=["x"], remove=["X"], ids=ids)
    assert both.status_code == 422
    assert "remove" in both.json["errors"]


# -- permissions and accounts ---------------------------------------------------------


def test_an_agent_may_create_and_change_in_bulk_but_not_delete(client, account, agent):
    made = bulk(client, agent, "create", [{"name": "Kept", "email": "kept@example.com"}])
    assert made.status_code == 200
    kept = made.json["items"][0]["id"]
    denied = bulk(client, agent, "delete", [{"id": kept}])
    assert denied.status_code == 403
    assert denied.json["code"] == "permission_denied"
    assert denied.json["errors"] == {"permission": ["contacts:delete"]}
    assert contacts(client, account)["meta"]["total"] == 1
    assert bulk(client, account, "delete", [{"id": kept}]).status_code == 200


def test_a_member_without_contacts_write_may_not_use_bulk(client, account, add_member):
    role = client.post(
        account.url("/roles"),
        json={"name": "Reader", "permissions": ["contacts:read"]},
        headers=account.headers,
    ).json
    reader = add_member(account.account_id, "reader", custom_role_id=role["id"])
    for response in (
        bulk(client, reader, "create", [{"name": "x"}]),
        bulk_tags(client, reader, add=["x"], filter="name:eq:x"),
    ):
        assert response.status_code == 403
        assert response.json["errors"] == {"permission": ["contacts:write"]}


def test_another_accounts_ids_are_not_found_never_touched_never_revealed(
    app, client, account, other_account
):
    theirs = create(client, other_account, name="Secret", email="secret@globex.example")
    missing = str(uuid.uuid4())
    for operation, items in [
        ("update", [{"id": theirs["id"], "name": "Hacked"}, {"id": missing, "name": "Hacked"}]),
        ("delete", [{"id": theirs["id"]}, {"id": missing}]),
    ]:
        response = bulk(client, account, operation, items, mode="best_effort")
        assert response.status_code == 200
        foreign, unknown = (item["error"] for item in response.json["items"])
        assert (
            foreign
            == unknown
            == {
                "code": "contact_not_found",
                "message": "No such contact.",
                "errors": {},
            }
        )
    tagged = bulk_tags(client, account, add=["stolen"], ids=[theirs["id"], missing])
    assert tagged.json == {
        "matched": 0,
        "changed": 0,
        "added": 0,
        "removed": 0,
        "not_found": [theirs["id"], missing],
    }

    seen = client.get(other_account.url(f"/contacts/{theirs['id']}"), headers=other_account.headers)
    assert seen.json["name"] == "Secret"
    assert tags_of(client, other_account, theirs["id"]) == []
    assert events(app, other_account, "contact.updated", "contact.deleted", "tag.added") == []
    # Their email is free in our account: batches never see other accounts' contacts.
    made = bulk(client, account, "create", [{"name": "Mine", "email": "secret@globex.example"}])
    assert made.status_code == 200


def test_another_accounts_bulk_urls_answer_like_an_unknown_account(client, account, other_account):
    url = f"/v1/accounts/{other_account.account_id}/contacts/bulk"
    response = client.post(
        url, json={"operation": "create", "items": [{"name": "x"}]}, headers=account.headers
    )
    assert response.status_code == 404
    assert response.json["code"] == "account_not_found"
    assert contacts(client, other_account)["meta"]["total"] == 0
