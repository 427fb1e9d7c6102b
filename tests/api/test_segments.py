"""Segments: saved contact filters checked and compiled to SQL, counted, listed like the
contact list, usable wherever contacts are selected (list, export, bulk tagging) and as an
automation condition ("contact is in segment"); isolated between accounts and roles."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from crm.segments import service as segments_service
from tests.api.test_conversations import setup_desk
from tests.api.test_inbox import make
from tests.api.test_reading import inbound

VIP = {"in": ["VIP", {"var": "contact.tags"}]}
NAVY = {"in": ["navy", {"var": "contact.email"}]}


def create_contact(client, member, name, *, tags=(), **fields):
    response = client.post(
        member.url("/contacts"), json={"name": name, **fields}, headers=member.headers
    )
    assert response.status_code == 201, response.json
    if tags:
        tagged = client.post(
            member.url(f"/contacts/{response.json['id']}/tags"),
            json={"tags": list(tags)},
            headers=member.headers,
        )
        assert tagged.status_code == 200, tagged.json
    return response.json["id"]


def post_segment(client, member, name="VIPs", condition=None, **fields):
    body = {"name": name, "condition": VIP if condition is None else condition, **fields}
    return client.post(member.url("/segments"), json=body, headers=member.headers)


def segment(client, member, name="VIPs", condition=None, **fields):
    response = post_segment(client, member, name, condition, **fields)
    assert response.status_code == 201, response.json
    return response.json


def get(client, member, path, **query):
    return client.get(member.url(path), query_string=query, headers=member.headers)


def names(page):
    return [item["name"] for item in page["items"]]


def refused_at(response, key):
    assert response.status_code == 422, response.json
    assert response.json["code"] == "validation_failed"
    assert list(response.json["errors"]) == [key], response.json
    return response.json["errors"][key][0]


@pytest.fixture
def people(client, account):
    """Four contacts: two VIPs (one of them at the navy), one navy, one neither; and a
    deleted VIP."""
    ids = {
        "ada": create_contact(client, account, "Ada", tags=["VIP"], email="ada@example.com"),
        "grace": create_contact(client, account, "Grace", tags=["vip"], email="grace@navy.mil"),
        "alan": create_contact(client, account, "Alan", email="alan@navy.example"),
        "bob": create_contact(client, account, "Bob", company="Acme"),
    }
    gone = create_contact(client, account, "Gone", tags=["VIP"])
    deleted = client.delete(account.url(f"/contacts/{gone}"), headers=account.headers)
    assert deleted.status_code == 204
    return ids


# --- saving and reading --------------------------------------------------------------


def test_a_segment_is_saved_counted_read_changed_and_deleted(client, account, people):
    made = segment(client, account, description="Our best customers")
    assert made["name"] == "VIPs"
    assert made["condition"] == VIP
    assert made["contact_count"] == 2  # tag names are case-insensitive; the deleted one not
    assert made["problem"] is None
    assert made["created_by"] == account.user_id

    navy = segment(client, account, "Navy", NAVY)
    listed = get(client, account, "/segments").json["items"]
    assert [(s["name"], s["contact_count"]) for s in listed] == [("Navy", 2), ("VIPs", 2)]

    read = get(client, account, f"/segments/{made['id']}")
    assert read.status_code == 200 and read.json["contact_count"] == 2

    changed = client.patch(
        account.url(f"/segments/{made['id']}"),
        json={"name": "VIP navy", "condition": {"and": [VIP, NAVY]}},
        headers=account.headers,
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["name"] == "VIP navy" and changed.json["contact_count"] == 1

    deleted = client.delete(account.url(f"/segments/{navy['id']}"), headers=account.headers)
    assert deleted.status_code == 204
    assert get(client, account, f"/segments/{navy['id']}").status_code == 404
    assert [s["name"] for s in get(client, account, "/segments").json["items"]] == ["VIP navy"]


def test_segment_changes_are_audited(client, account):
    made = segment(client, account)
    client.patch(
        account.url(f"/segments/{made['id']}"), json={"name": "Renamed"}, headers=account.headers
    )
    client.delete(account.url(f"/segments/{made['id']}"), headers=account.headers)
    entries = get(client, account, "/audit-log", filter="target_type:eq:segment").json["items"]
    by_action = {entry["action"]: entry for entry in entries}
    assert set(by_action) == {"segment.created", "segment.updated", "segment.deleted"}
    assert by_action["segment.created"]["after"]["condition"] == VIP
    assert by_action["segment.updated"]["before"]["name"] == "VIPs"
    assert by_action["segment.updated"]["after"]["name"] == "Renamed"
    assert by_action["segment.deleted"]["before"]["name"] == "Renamed"
    assert {entry["target_id"] for entry in entries} == {made["id"]}


def test_names_are_unique_ignoring_case(client, account):
    first = segment(client, account, "VIPs")
    taken = post_segment(client, account, "  vips ")
    assert taken.status_code == 409
    assert taken.json["code"] == "segment_name_taken"
    assert set(taken.json["errors"]) == {"name"}
    other = segment(client, account, "Others")
    renamed = client.patch(
        account.url(f"/segments/{other['id']}"), json={"name": "VIPS"}, headers=account.headers
    )
    assert renamed.status_code == 409 and renamed.json["code"] == "segment_name_taken"
    same = client.patch(
        account.url(f"/segments/{first['id']}"), json={"name": "vips"}, headers=account.headers
    )
    assert same.status_code == 200 and same.json["name"] == "vips"


BAD_CONDITIONS = [
    ({"==": [{"var": "contact.shoe_size"}, 1]}, "condition/==/0/var", "no field"),
    ({"and": [VIP, {"==": [1]}]}, "condition/and/1/==", "takes 2 arguments"),
    ({"regex": [{"var": "contact.name"}, "ada", "i"]}, "condition/regex/1", "i flag"),
    ({"==": [{"var": "contact.name"}, 5]}, "condition/==/1", "compare a text field"),
    ({"!!": {"var": "contact.custom_fields.plan"}}, "condition/!!/var", "custom field 'plan'"),
    ({"in": ["x", {"var": "contact.segments"}]}, "condition/in/1/var", "other segments"),
    ({"==": [{"var": "conversation.status"}, "open"]}, "condition/==/0/var", "no field"),
    ({"bogus": [1]}, "condition/bogus", "unknown operator"),
]


@pytest.mark.parametrize(("condition", "key", "says"), BAD_CONDITIONS)
def test_a_condition_sql_cannot_answer_exactly_is_refused_with_a_pointer(
    client, account, condition, key, says
):
    message = refused_at(post_segment(client, account, condition=condition), key)
    assert says in message
    made = segment(client, account)
    patched = client.patch(
        account.url(f"/segments/{made['id']}"),
        json={"condition": condition},
        headers=account.headers,
    )
    refused_at(patched, key)
    preview = client.post(
        account.url("/segments/preview"), json={"condition": condition}, headers=account.headers
    )
    refused_at(preview, key)


def test_a_pattern_the_server_cannot_run_is_refused_on_save(client, account):
    condition = {"regex": [{"var": "contact.name"}, "((a{100}){100}){100}"]}  # fine in Python
    message = refused_at(post_segment(client, account, condition=condition), "condition/regex/1")
    assert "too complex" in message


def test_an_account_has_at_most_so_many_segments(client, account, monkeypatch):
    monkeypatch.setattr(segments_service, "MAX_SEGMENTS", 2)
    segment(client, account, "One")
    segment(client, account, "Two")
    assert "at most 2" in refused_at(post_segment(client, account, "Three"), "name")


# --- the segment's contacts ----------------------------------------------------------


def test_a_segments_contacts_page_sort_and_filter_like_the_contact_list(client, account, people):
    vips = segment(client, account)
    page = get(client, account, f"/segments/{vips['id']}/contacts", sort="name", per_page=1)
    assert page.status_code == 200, page.json
    assert names(page.json) == ["Ada"]
    assert page.json["meta"] == {"page": 1, "per_page": 1, "total": 2, "pages": 2}
    assert set(page.json["items"][0]) >= {"id", "email", "custom_fields", "created_at"}
    narrowed = get(
        client, account, f"/segments/{vips['id']}/contacts", filter="email:icontains:navy"
    )
    assert names(narrowed.json) == ["Grace"]
    bad = get(client, account, f"/segments/{vips['id']}/contacts", sort="shoe")
    assert bad.status_code == 400 and bad.json["code"] == "invalid_sort"
    missing = get(client, account, f"/segments/{uuid.uuid4()}/contacts")
    assert missing.status_code == 404 and missing.json["code"] == "segment_not_found"


def test_preview_counts_and_shows_the_first_page_without_saving(client, account, people):
    response = client.post(
        account.url("/segments/preview"),
        json={"condition": {"or": [VIP, NAVY]}, "per_page": 2, "sort": "name"},
        headers=account.headers,
    )
    assert response.status_code == 200, response.json
    assert response.json["count"] == 3
    assert [c["name"] for c in response.json["items"]] == ["Ada", "Alan"]
    assert get(client, account, "/segments").json["items"] == []
    unsorted = client.post(
        account.url("/segments/preview"),
        json={"condition": True, "sort": "shoe"},
        headers=account.headers,
    )
    assert unsorted.status_code == 400


def test_custom_fields_tags_and_dates_select_in_sql(client, account):
    for definition in (
        {"key": "plan", "type": "single_select", "options": ["free", "pro"]},
        {"key": "seats", "type": "number"},
        {"key": "langs", "type": "multi_select", "options": ["en", "de"]},
    ):
        made = client.post(
            account.url("/custom-fields"),
            json={"entity": "contact", "label": definition["key"], **definition},
            headers=account.headers,
        )
        assert made.status_code == 201, made.json
    create_contact(client, account, "Pro", custom_fields={"plan": "pro", "seats": 12})
    create_contact(client, account, "Free", custom_fields={"plan": "free", "seats": 3})
    create_contact(client, account, "German", custom_fields={"langs": ["de"]}, tags=["Billing"])
    condition = {
        "or": [
            {
                "and": [
                    {"==": [{"var": "contact.custom_fields.plan"}, "pro"]},
                    {">": [{"var": "contact.custom_fields.seats"}, "10"]},
                ]
            },
            {"some": [{"var": "contact.custom_fields.langs"}, {"in": [{"var": ""}, ["de", "fr"]]}]},
        ]
    }
    made = segment(client, account, "Mixed", condition)
    assert made["contact_count"] == 2
    recent = segment(
        client, account, "Recent", {"within_last": [{"var": "contact.created_at"}, 1, "hours"]}
    )
    assert recent["contact_count"] == 3
    billing = segment(client, account, "Billing", {"in_ci": ["BILLING", {"var": "contact.tags"}]})
    assert names(get(client, account, f"/segments/{billing['id']}/contacts").json) == ["German"]


def test_a_segment_outlives_its_custom_fields_changes(client, account):
    made = client.post(
        account.url("/custom-fields"),
        json={"entity": "contact", "key": "tier", "label": "Tier", "type": "text"},
        headers=account.headers,
    )
    field = made.json["id"]
    create_contact(client, account, "Gold", custom_fields={"tier": "gold"})
    create_contact(client, account, "Plain")
    starts = segment(
        client, account, "Starts g", {"regex": [{"var": "contact.custom_fields.tier"}, "^g"]}
    )
    empty = segment(client, account, "No tier", {"!": {"var": "contact.custom_fields.tier"}})
    assert (starts["contact_count"], empty["contact_count"]) == (1, 1)

    retyped = client.patch(
        account.url(f"/custom-fields/{field}"), json={"type": "number"}, headers=account.headers
    )
    assert retyped.status_code == 200
    listed = {s["name"]: s for s in get(client, account, "/segments").json["items"]}
    assert listed["No tier"]["contact_count"] == 2  # "gold" is no number: no value now
    broken = listed["Starts g"]
    assert broken["contact_count"] is None
    assert broken["problem"]["at"] == "condition/regex"
    contacts = get(client, account, f"/segments/{starts['id']}/contacts")
    assert contacts.status_code == 409 and contacts.json["code"] == "segment_invalid"
    assert list(contacts.json["errors"]) == ["condition/regex"]
    listed_by = get(client, account, "/contacts", segment=starts["id"])
    assert listed_by.status_code == 409 and listed_by.json["code"] == "segment_invalid"

    client.delete(account.url(f"/custom-fields/{field}"), headers=account.headers)
    after = {s["name"]: s for s in get(client, account, "/segments").json["items"]}
    assert after["Starts g"]["contact_count"] == 0  # a deleted field reads as null
    assert after["No tier"]["contact_count"] == 2


# --- a segment wherever contacts are selected ----------------------------------------


def test_the_contact_list_takes_a_segment_on_top_of_its_filters(client, account, people):
    vips = segment(client, account)
    listed = get(client, account, "/contacts", segment=vips["id"], sort="name")
    assert names(listed.json) == ["Ada", "Grace"]
    narrowed = get(client, account, "/contacts", segment=vips["id"], filter="name:eq:Grace")
    assert names(narrowed.json) == ["Grace"]
    unknown = get(client, account, "/contacts", segment=str(uuid.uuid4()))
    assert refused_at(unknown, "segment") == "no such segment"


def test_the_export_takes_a_segment(client, account, people):
    vips = segment(client, account)
    response = get(client, account, "/contacts/export", segment=vips["id"], columns="name")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert sorted(rows[1:]) == [["Ada"], ["Grace"]]
    unknown = get(client, account, "/contacts/export", segment=str(uuid.uuid4()))
    refused_at(unknown, "segment")


def test_bulk_tagging_takes_a_segment_alone_or_with_a_filter(client, account, people):
    vips = segment(client, account)
    tagged = client.post(
        account.url("/contacts/bulk/tags"),
        json={"add": ["Gold"], "segment_id": vips["id"]},
        headers=account.headers,
    )
    assert tagged.status_code == 200, tagged.json
    assert (tagged.json["matched"], tagged.json["added"]) == (2, 2)
    narrowed = client.post(
        account.url("/contacts/bulk/tags"),
        json={"remove": ["Gold"], "segment_id": vips["id"], "filter": "name:eq:Ada"},
        headers=account.headers,
    )
    assert (narrowed.json["matched"], narrowed.json["removed"]) == (1, 1)
    gold = segment(client, account, "Gold", {"in": ["Gold", {"var": "contact.tags"}]})
    assert gold["contact_count"] == 1
    both = client.post(
        account.url("/contacts/bulk/tags"),
        json={"add": ["x"], "segment_id": vips["id"], "ids": [people["bob"]]},
        headers=account.headers,
    )
    assert both.status_code == 422
    unknown = client.post(
        account.url("/contacts/bulk/tags"),
        json={"add": ["x"], "segment_id": str(uuid.uuid4())},
        headers=account.headers,
    )
    refused_at(unknown, "segment_id")


# --- automation: contact is in segment -----------------------------------------------


def rule(client, member, conditions, **fields):
    body = {
        "name": "Segment rule",
        "events": ["message.created"],
        "conditions": conditions,
        "actions": [{"type": "add_tag", "params": {"tag": "vip-desk"}}],
        **fields,
    }
    return client.post(member.url("/automation/rules"), json=body, headers=member.headers)


def conversation_tags(client, member, conversation_id):
    return get(client, member, f"/conversations/{conversation_id}").json["tags"]


def test_a_rule_fires_for_a_contact_in_the_segment_and_not_for_one_outside(client, account, settle):
    channel_id, outsider = setup_desk(client, account)
    insider = create_contact(client, account, "Insider", tags=["VIP"])
    vips = segment(client, account)
    made = rule(client, account, {"in": [vips["id"], {"var": "contact.segments"}]})
    assert made.status_code == 201, made.json
    inside = make(client, account, channel_id, insider)
    outside = make(client, account, channel_id, outsider)
    inbound(client, account, inside)
    inbound(client, account, outside)
    settle()
    assert conversation_tags(client, account, inside) == ["vip-desk"]
    assert conversation_tags(client, account, outside) == []

    tried = client.post(
        account.url(f"/automation/rules/{made.json['id']}/test"),
        json={"conversation_id": inside},
        headers=account.headers,
    )
    assert tried.status_code == 200, tried.json
    assert tried.json["matched"] is True
    assert tried.json["context"]["contact"]["segments"] == [vips["id"]]


def test_a_rule_naming_no_segment_is_refused_and_a_used_segment_cannot_go(client, account):
    missing = rule(client, account, {"in": [str(uuid.uuid4()), {"var": "contact.segments"}]})
    assert missing.status_code == 422
    assert list(missing.json["errors"]) == ["conditions/in/0"]
    vips = segment(client, account)
    listed_in = {"some": [{"var": "contact.segments"}, {"in": [{"var": ""}, [vips["id"], "x"]]}]}
    refused = rule(client, account, listed_in)
    assert list(refused.json["errors"]) == ["conditions/some/1/in/1/1"]
    made = rule(client, account, {"in": [vips["id"], {"var": "contact.segments"}]}, name="VIP desk")
    assert made.status_code == 201, made.json

    in_use = client.delete(account.url(f"/segments/{vips['id']}"), headers=account.headers)
    assert in_use.status_code == 409
    assert in_use.json["code"] == "segment_in_use"
    assert in_use.json["rules"] == [{"id": made.json["id"], "name": "VIP desk"}]
    client.delete(account.url(f"/automation/rules/{made.json['id']}"), headers=account.headers)
    gone = client.delete(account.url(f"/segments/{vips['id']}"), headers=account.headers)
    assert gone.status_code == 204


def test_the_catalogue_offers_the_contact_fields_segments_read(client, account):
    fields = {f["name"]: f for f in get(client, account, "/automation/fields").json["fields"]}
    assert fields["contact.segments"]["type"] == "multiselect"
    assert fields["contact.custom_fields"]["open_ended"] is True
    assert fields["contact.updated_at"]["type"] == "datetime"


# --- two accounts, two roles ---------------------------------------------------------


def test_another_account_can_neither_read_change_nor_detect_a_segment(
    client, account, other_account, people
):
    vips = segment(client, account)
    theirs = segment(client, other_account, "Theirs", True)
    for method, path in (
        ("get", "/segments"),
        ("get", f"/segments/{vips['id']}"),
        ("patch", f"/segments/{vips['id']}"),
        ("delete", f"/segments/{vips['id']}"),
        ("get", f"/segments/{vips['id']}/contacts"),
        ("post", "/segments/preview"),
    ):
        url = f"/v1/accounts/{account.account_id}{path}"
        response = client.open(url, method=method, json={}, headers=other_account.headers)
        assert response.status_code == 404, (method, path, response.json)
        assert response.json["code"] == "account_not_found"
    for method, path in (
        ("get", f"/segments/{vips['id']}"),
        ("patch", f"/segments/{vips['id']}"),
        ("delete", f"/segments/{vips['id']}"),
        ("get", f"/segments/{vips['id']}/contacts"),
    ):
        response = client.open(
            other_account.url(path),
            method=method,
            json={"name": "x"},
            headers=other_account.headers,
        )
        assert response.status_code == 404, (method, path)
        assert response.json["code"] == "segment_not_found"
    assert [s["name"] for s in get(client, other_account, "/segments").json["items"]] == ["Theirs"]
    assert get(client, other_account, "/segments").json["items"][0]["contact_count"] == 0
    foreign = get(client, account, "/contacts", segment=theirs["id"])
    assert refused_at(foreign, "segment") == "no such segment"
    refused_at(get(client, account, "/contacts/export", segment=theirs["id"]), "segment")
    tagging = client.post(
        account.url("/contacts/bulk/tags"),
        json={"add": ["x"], "segment_id": theirs["id"]},
        headers=account.headers,
    )
    refused_at(tagging, "segment_id")
    assert get(client, account, f"/segments/{vips['id']}").json["name"] == "VIPs"


def test_agents_read_and_preview_segments_but_only_managers_change_them(
    client, account, agent, add_member, people
):
    vips = segment(client, account)
    assert get(client, agent, "/segments").status_code == 200
    assert get(client, agent, f"/segments/{vips['id']}/contacts").json["meta"]["total"] == 2
    previewed = client.post(
        agent.url("/segments/preview"), json={"condition": VIP}, headers=agent.headers
    )
    assert previewed.status_code == 200 and previewed.json["count"] == 2
    for response in (
        post_segment(client, agent, "Mine"),
        client.patch(
            agent.url(f"/segments/{vips['id']}"), json={"name": "x"}, headers=agent.headers
        ),
        client.delete(agent.url(f"/segments/{vips['id']}"), headers=agent.headers),
    ):
        assert response.status_code == 403, response.json
        assert response.json["errors"]["permission"] == ["segments:manage"]
    assert names(get(client, agent, "/contacts", segment=vips["id"], sort="name").json) == [
        "Ada",
        "Grace",
    ]
    tagged = client.post(
        agent.url("/contacts/bulk/tags"),
        json={"add": ["Seen"], "segment_id": vips["id"]},
        headers=agent.headers,
    )
    assert tagged.status_code == 200 and tagged.json["added"] == 2
    admin = add_member(account.account_id, "admin")
    assert post_segment(client, admin, "Admins may").status_code == 201

    role = client.post(
        account.url("/roles"),
        json={"name": "Segmenter", "permissions": ["segments:manage"]},
        headers=account.headers,
    )
    assert role.status_code == 201, role.json
    segmenter = add_member(account.account_id, "segmenter", custom_role_id=role.json["id"])
    assert post_segment(client, segmenter, "Custom").status_code == 201
    blind = get(client, segmenter, "/segments")
    assert blind.status_code == 403 and blind.json["errors"]["permission"] == ["contacts:read"]


def test_segments_are_documented(client):
    spec = client.get("/openapi.json").json
    base = "/v1/accounts/{account_id}/segments"
    assert set(spec["paths"][base]) >= {"get", "post"}
    assert set(spec["paths"][f"{base}/{{segment_id}}"]) >= {"get", "patch", "delete"}
    assert "409" in spec["paths"][f"{base}/{{segment_id}}"]["delete"]["responses"]
    assert "409" in spec["paths"][f"{base}/{{segment_id}}/contacts"]["get"]["responses"]
    listed = spec["paths"]["/v1/accounts/{account_id}/contacts"]["get"]["parameters"]
    assert "segment" in {p["name"] for p in listed}
