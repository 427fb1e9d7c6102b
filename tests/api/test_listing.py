"""The list grammar (api/listing.py), exercised on the contacts collection."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest


def add(client, member, name, **fields):
    response = client.post(
        member.url("/contacts"), json={"name": name, **fields}, headers=member.headers
    )
    assert response.status_code == 201, response.json
    return response.json


def listing(client, member, **params):
    return client.get(member.url("/contacts"), query_string=params, headers=member.headers)


def names(client, member, **params) -> list[str]:
    response = listing(client, member, **params)
    assert response.status_code == 200, response.json
    return [item["name"] for item in response.json["items"]]


def bad(response, status, code) -> dict:
    assert response.status_code == status, response.json
    assert response.json["code"] == code
    return response.json


@pytest.fixture
def people(client, account):
    """Five contacts created in this order (so created_at increases)."""
    return [
        add(client, account, "Ada Lovelace", email="ada@example.com", company="Engines"),
        add(client, account, "ada byron", email="byron@example.com", company=None),
        add(client, account, "100% Pure", company="Juice_Co"),
        add(client, account, "1000 Pure", company="JuiceXCo"),
        add(client, account, "Re: meeting", phone="+1 415 555 0100", company="Engines"),
    ]


# Pagination


def test_pages_and_meta(client, account, people):
    first = listing(client, account, per_page=2, sort="created_at").json
    assert first["meta"] == {"page": 1, "per_page": 2, "total": 5, "pages": 3}
    assert [c["name"] for c in first["items"]] == ["Ada Lovelace", "ada byron"]
    last = listing(client, account, per_page=2, page=3, sort="created_at").json
    assert [c["name"] for c in last["items"]] == ["Re: meeting"]
    past = listing(client, account, per_page=2, page=4).json
    assert past["items"] == [] and past["meta"]["total"] == 5


def test_defaults_are_page_one_of_25_newest_first(client, account, people):
    body = listing(client, account).json
    assert body["meta"] == {"page": 1, "per_page": 25, "total": 5, "pages": 1}
    assert [c["name"] for c in body["items"]] == [p["name"] for p in reversed(people)]


def test_an_empty_list_has_zero_pages(client, account):
    assert listing(client, account).json["meta"] == {
        "page": 1,
        "per_page": 25,
        "total": 0,
        "pages": 0,
    }


@pytest.mark.parametrize(
    "params,field",
    [
        ({"per_page": 101}, "per_page"),
        ({"per_page": 0}, "per_page"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_out_of_range_paging_is_422_naming_the_argument(client, account, params, field):
    body = bad(listing(client, account, **params), 422, "validation_failed")
    assert set(body["errors"]) == {field}


def test_per_page_100_is_allowed(client, account, people):
    assert listing(client, account, per_page=100).json["meta"]["per_page"] == 100


# Sorting


def test_sort_descending_then_ascending(client, account, people):
    assert names(client, account, sort="-created_at,name") == [
        "Re: meeting",
        "1000 Pure",
        "100% Pure",
        "ada byron",
        "Ada Lovelace",
    ]
    assert names(client, account, sort="created_at")[0] == "Ada Lovelace"


def test_later_sort_keys_break_ties_of_earlier_ones(client, account, people):
    engines = {"filter": "company:eq:Engines"}
    assert names(client, account, sort="company,name", **engines) == [
        "Ada Lovelace",
        "Re: meeting",
    ]
    assert names(client, account, sort="company,-name", **engines) == [
        "Re: meeting",
        "Ada Lovelace",
    ]


def test_equal_sort_keys_come_back_in_a_stable_order_across_pages(client, account):
    ids = [add(client, account, "Same")["id"] for _ in range(4)]
    paged = []
    for page in (1, 2, 3, 4):
        body = listing(client, account, sort="name", per_page=1, page=page).json
        paged += [item["id"] for item in body["items"]]
    assert paged == sorted(ids)  # the id tie-break, ascending


@pytest.mark.parametrize("sort", ["colour", "-colour", "name,", "id", "--name"])
def test_sorting_by_an_unknown_field_is_400_naming_the_sortable_ones(client, account, sort):
    body = bad(listing(client, account, sort=sort), 400, "invalid_sort")
    for field in ("name", "created_at", "email"):
        assert field in body["message"]
        assert field in body["errors"]["sort"][0]


# Filter operators


def test_eq_and_ne(client, account, people):
    assert names(client, account, filter="name:eq:ada byron") == ["ada byron"]
    assert names(client, account, filter="name:eq:Ada byron") == []
    others = names(client, account, filter="email:ne:ada@example.com")
    assert "Ada Lovelace" not in others
    assert len(others) == 4  # contacts without an email are "not equal" too


def test_in(client, account, people):
    found = names(client, account, filter="email:in:ada@example.com,byron@example.com")
    assert sorted(found) == ["Ada Lovelace", "ada byron"]
    ids = f"{people[0]['id']},{people[4]['id']},{uuid.uuid4()}"
    assert sorted(names(client, account, filter=f"id:in:{ids}")) == ["Ada Lovelace", "Re: meeting"]


def test_contains_is_case_sensitive_and_icontains_is_not(client, account, people):
    assert names(client, account, filter="name:contains:Ada") == ["Ada Lovelace"]
    assert sorted(names(client, account, filter="name:icontains:ADA")) == [
        "Ada Lovelace",
        "ada byron",
    ]


def test_startswith_matches_the_beginning_only(client, account, people):
    assert names(client, account, filter="name:startswith:Ada") == ["Ada Lovelace"]
    assert names(client, account, filter="name:startswith:Lovelace") == []
    assert names(client, account, filter="name:startswith:100%") == ["100% Pure"]
    assert names(client, account, filter="name:startswith:1_0") == []


def test_percent_and_underscore_match_themselves(client, account, people):
    assert names(client, account, filter="name:contains:0%") == ["100% Pure"]
    assert names(client, account, filter="company:contains:_") == ["100% Pure"]
    assert names(client, account, filter="company:icontains:juice_co") == ["100% Pure"]
    assert names(client, account, filter="name:contains:\\") == []


def test_isnull(client, account, people):
    assert names(client, account, filter="company:isnull:true") == ["ada byron"]
    assert len(names(client, account, filter="company:isnull:false")) == 4
    assert names(client, account, filter="phone:isnull:false") == ["Re: meeting"]


def test_ordered_operators_on_datetimes(client, account, people):
    middle = people[2]["created_at"]
    assert len(names(client, account, filter=f"created_at:lt:{middle}")) == 2
    assert len(names(client, account, filter=f"created_at:lte:{middle}")) == 3
    assert len(names(client, account, filter=f"created_at:gt:{middle}")) == 2
    assert len(names(client, account, filter=f"created_at:gte:{middle}")) == 3
    assert names(client, account, filter=f"created_at:eq:{middle}") == ["100% Pure"]
    assert len(names(client, account, filter=f"created_at:ne:{middle}")) == 4


def test_datetime_values_with_colons_offsets_and_z(client, account, people):
    first = datetime.fromisoformat(people[0]["created_at"])
    before = first - timedelta(seconds=1)
    as_z = before.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    as_offset = before.astimezone().isoformat()  # local offset, same instant
    naive_utc = before.replace(tzinfo=None).isoformat()  # no offset: read as UTC
    for value in (as_z, as_offset, naive_utc):
        assert len(names(client, account, filter=f"created_at:gte:{value}")) == 5, value
        assert names(client, account, filter=f"created_at:lt:{value}") == [], value


def test_filters_are_anded(client, account, people):
    both = ["company:eq:Engines", "name:icontains:ada"]
    assert names(client, account, filter=both) == ["Ada Lovelace"]
    assert listing(client, account, filter=both).json["meta"]["total"] == 1
    assert names(client, account, filter=[*both, "email:isnull:true"]) == []


def test_values_may_contain_colons(client, account, people):
    assert names(client, account, filter="name:eq:Re: meeting") == ["Re: meeting"]
    assert names(client, account, filter="name:contains:: m") == ["Re: meeting"]


# Filter errors


@pytest.mark.parametrize("expression", ["name", "name:eq", ":eq:x", "name::x", ""])
def test_a_malformed_filter_is_400(client, account, expression):
    body = bad(listing(client, account, filter=expression), 400, "invalid_filter")
    assert "field:op:value" in body["message"]


def test_an_unknown_filter_field_is_400_naming_the_allowed_fields(client, account):
    body = bad(listing(client, account, filter="colour:eq:red"), 400, "invalid_filter")
    assert "colour" in body["message"]
    for field in ("name", "email", "phone", "company", "created_at", "id"):
        assert field in body["errors"]["filter"][0]


@pytest.mark.parametrize(
    "expression,allowed,refused",
    [
        ("name:lt:B", {"eq", "contains", "icontains", "isnull"}, {"lt", "gt"}),
        ("created_at:contains:2024", {"lt", "gte", "isnull"}, {"contains"}),
        ("id:gt:x", {"eq", "ne", "in"}, {"gt", "contains"}),
        ("name:like:Ada", {"eq"}, {"like"}),
    ],
)
def test_an_operator_a_field_does_not_allow_is_400_naming_its_operators(
    client, account, expression, allowed, refused
):
    body = bad(listing(client, account, filter=expression), 400, "invalid_filter")
    listed = set(body["errors"]["filter"][0].split(": ", 1)[1].split(", "))
    assert allowed <= listed
    assert not refused & listed


@pytest.mark.parametrize(
    "expression",
    [
        "created_at:gt:yesterday",
        "created_at:in:2024-01-01,never",
        "updated_at:lt:2024-13-01",
        "id:eq:not-a-uuid",
        "company:isnull:maybe",
    ],
)
def test_a_value_of_the_wrong_type_is_400(client, account, expression):
    body = bad(listing(client, account, filter=expression), 400, "invalid_filter")
    assert body["errors"]["filter"]
