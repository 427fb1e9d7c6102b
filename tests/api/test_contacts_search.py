"""Searching contacts as a person types (``?q=``), with the list's other narrowing and in
the export, and each listed contact's tags; isolated between accounts and roles."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine


def create(client, member, name, *, tags=(), **fields):
    response = client.post(
        member.url("/contacts"), json={"name": name, **fields}, headers=member.headers
    )
    assert response.status_code == 201, response.json
    contact = response.json
    if tags:
        tagged = client.post(
            member.url(f"/contacts/{contact['id']}/tags"),
            json={"tags": list(tags)},
            headers=member.headers,
        )
        assert tagged.status_code == 200, tagged.json
    return contact


def listed(client, member, **query):
    response = client.get(member.url("/contacts"), headers=member.headers, query_string=query)
    assert response.status_code == 200, response.json
    return response.json


def found(client, member, q, **query) -> list[str]:
    """The names ``q`` finds, alphabetically."""
    return [c["name"] for c in listed(client, member, q=q, sort="name", **query)["items"]]


@pytest.fixture
def people(client, account):
    create(
        client,
        account,
        "Ada Lovelace",
        email="ada@analytical.example",
        phone="+14155550123",
        company="Analytical Engines",
        tags=["inventor"],
    )
    create(
        client,
        account,
        "Charles Babbage",
        email="charles@difference.example",
        phone="+442079460958",
        company="Difference Engines",
        tags=["inventor"],
    )
    create(client, account, "Grace Hopper", email="grace@navy.example", company="US Navy")
    create(client, account, "Percy 100% Sure", company="Under_score Ltd")
    create(client, account, "Percy Other", company="Underscore Ltd")


class TestEachField:
    def test_part_of_a_name_ignoring_case(self, client, account, people):
        assert found(client, account, "LOVE") == ["Ada Lovelace"]
        assert found(client, account, "percy") == ["Percy 100% Sure", "Percy Other"]

    def test_an_email_fragment_without_the_at(self, client, account, people):
        assert found(client, account, "navy.exa") == ["Grace Hopper"]
        assert found(client, account, "charles@diff") == ["Charles Babbage"]

    def test_part_of_a_company(self, client, account, people):
        assert found(client, account, "engines") == ["Ada Lovelace", "Charles Babbage"]

    def test_nothing_found_is_an_empty_page(self, client, account, people):
        page = listed(client, account, q="zebra")
        assert page["items"] == [] and page["meta"]["total"] == 0

    def test_a_blank_q_narrows_nothing(self, client, account, people):
        assert listed(client, account, q="   ")["meta"]["total"] == 5


class TestPhones:
    def test_digits_with_separators_ignored(self, client, account, people):
        assert found(client, account, "555-01") == ["Ada Lovelace"]
        assert found(client, account, "(415) 555") == ["Ada Lovelace"]
        assert found(client, account, "7946.0958") == ["Charles Babbage"]

    def test_a_number_written_in_full_with_its_country_code(self, client, account, people):
        assert found(client, account, "+1 (415) 555-0123") == ["Ada Lovelace"]
        assert found(client, account, "+44 20 7946 0958") == ["Charles Babbage"]
        assert found(client, account, "0044 20 7946") == ["Charles Babbage"]

    def test_a_plus_means_the_number_starts_so(self, client, account, people):
        # 4155 is inside Ada's number, but no number starts with +4155.
        assert found(client, account, "4155") == ["Ada Lovelace"]
        assert found(client, account, "+4155") == []
        assert found(client, account, "+44") == []  # two digits: texts only

    def test_a_trunk_zero_reads_as_a_number_of_the_accounts_country(self, client, account, people):
        # Without a region the digits after the zero are looked for anywhere.
        assert found(client, account, "020 7946") == ["Charles Babbage"]
        settings = client.patch(
            account.url("/settings"), json={"locale": "en-GB"}, headers=account.headers
        )
        assert settings.status_code == 200, settings.json
        assert found(client, account, "020 7946 0958") == ["Charles Babbage"]
        assert found(client, account, "0415 555") == []  # +44415… is nobody's
        assert found(client, account, "0958") == ["Charles Babbage"]  # a fragment, as typed

    def test_fewer_than_three_digits_search_the_texts_only(self, client, account, people):
        assert found(client, account, "55") == []
        assert found(client, account, "100") == ["Percy 100% Sure"]  # in a name


class TestWords:
    def test_every_word_must_match_some_field(self, client, account, people):
        assert found(client, account, "ada engines") == ["Ada Lovelace"]
        assert found(client, account, "engines difference") == ["Charles Babbage"]
        assert found(client, account, "grace engines") == []
        assert found(client, account, "  babbage   4420 ") == ["Charles Babbage"]

    def test_percent_and_underscore_are_literal(self, client, account, people):
        assert found(client, account, "100%") == ["Percy 100% Sure"]
        assert found(client, account, "%") == ["Percy 100% Sure"]
        assert found(client, account, "under_") == ["Percy 100% Sure"]
        assert found(client, account, "_") == ["Percy 100% Sure"]
        assert found(client, account, "a%e") == []
        assert found(client, account, "back\\slash") == []

    def test_a_q_too_long_is_refused_naming_it(self, client, account):
        response = client.get(
            account.url("/contacts"), headers=account.headers, query_string={"q": "x" * 201}
        )
        assert response.status_code == 422 and "q" in response.json["errors"]


class TestWithTheRestOfTheList:
    def test_q_with_filters_sort_and_paging(self, client, account, people):
        query = {"q": "engines", "filter": "company:icontains:difference"}
        assert [c["name"] for c in listed(client, account, **query)["items"]] == ["Charles Babbage"]
        first = listed(client, account, q="percy", sort="-name", per_page=1)
        assert first["meta"] == {"page": 1, "per_page": 1, "total": 2, "pages": 2}
        assert [c["name"] for c in first["items"]] == ["Percy Other"]
        second = listed(client, account, q="percy", sort="-name", per_page=1, page=2)
        assert [c["name"] for c in second["items"]] == ["Percy 100% Sure"]

    def test_q_with_a_segment(self, client, account, people):
        condition = {"in": ["inventor", {"var": "contact.tags"}]}
        segment = client.post(
            account.url("/segments"),
            json={"name": "Inventors", "condition": condition},
            headers=account.headers,
        )
        assert segment.status_code == 201, segment.json
        sid = segment.json["id"]
        assert found(client, account, "ada", segment=sid) == ["Ada Lovelace"]
        assert found(client, account, "engines", segment=sid) == ["Ada Lovelace", "Charles Babbage"]
        assert found(client, account, "grace", segment=sid) == []
        assert found(client, account, "grace") == ["Grace Hopper"]

    def test_q_in_the_deleted_list(self, client, account, people):
        gone = create(client, account, "Ada Gone")
        client.delete(account.url(f"/contacts/{gone['id']}"), headers=account.headers)
        assert found(client, account, "ada") == ["Ada Lovelace"]
        assert found(client, account, "ada", deleted="true") == ["Ada Gone"]

    def test_unknown_arguments_are_still_refused(self, client, account):
        response = client.get(
            account.url("/contacts"), headers=account.headers, query_string={"search": "ada"}
        )
        assert response.status_code == 422 and "search" in response.json["errors"]


def csv_names(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    return [row[0] for row in rows[1:]]


class TestExport:
    def test_the_export_takes_q_as_the_list_does(self, client, account, people):
        query = {"q": "engines", "sort": "name", "columns": "name"}
        response = client.get(
            account.url("/contacts/export"), headers=account.headers, query_string=query
        )
        assert csv_names(response) == ["Ada Lovelace", "Charles Babbage"]
        assert csv_names(
            client.get(
                account.url("/contacts/export"),
                headers=account.headers,
                query_string={"q": "+44 20", "columns": "name"},
            )
        ) == ["Charles Babbage"]

    def test_the_export_job_takes_q(self, client, account, people, run_jobs):
        asked = client.post(
            account.url("/contacts/exports"),
            headers=account.headers,
            query_string={"q": "percy 100%", "columns": "name"},
        )
        assert asked.status_code == 202, asked.json
        assert asked.json["total_rows"] == 1
        run_jobs()
        download = client.get(
            account.url(f"/contacts/exports/{asked.json['id']}/download"),
            headers=account.headers,
        )
        assert csv_names(download) == ["Percy 100% Sure"]

    def test_an_unknown_argument_is_still_refused(self, client, account):
        response = client.get(
            account.url("/contacts/export"), headers=account.headers, query_string={"qq": "a"}
        )
        assert response.status_code == 422 and "qq" in response.json["errors"]


class TestTags:
    def test_listed_contacts_carry_their_tag_names_sorted(self, client, account):
        ada = create(client, account, "Ada", tags=["vip", "Beta", "alpha"])
        create(client, account, "Bo")
        items = listed(client, account, sort="name")["items"]
        assert [(c["name"], c["tags"]) for c in items] == [
            ("Ada", ["alpha", "Beta", "vip"]),
            ("Bo", []),
        ]
        one = client.get(account.url(f"/contacts/{ada['id']}"), headers=account.headers)
        assert one.status_code == 200 and one.json["tags"] == ["alpha", "Beta", "vip"]
        # A removed tag is gone from the list at once.
        client.delete(account.url(f"/contacts/{ada['id']}/tags/vip"), headers=account.headers)
        assert listed(client, account, q="ada")["items"][0]["tags"] == ["alpha", "Beta"]

    def test_a_page_of_contacts_reads_all_their_tags_in_one_query(self, client, account):
        for n in range(6):
            create(client, account, f"Contact {n}", tags=[f"t{n}", "shared"])

        def statements(query) -> list[str]:
            seen: list[str] = []

            def record(conn, cursor, statement, parameters, context, executemany):
                seen.append(statement)

            # On every engine: the tenant's session binds a schema-scoped copy of the app's.
            event.listen(Engine, "before_cursor_execute", record)
            try:
                listed(client, account, **query)
            finally:
                event.remove(Engine, "before_cursor_execute", record)
            return [s for s in seen if "contact_tags" in s]

        # The same number of tag queries (one) for a page of 2 and a page of 6.
        small, large = statements({"per_page": 2}), statements({"per_page": 6})
        assert len(small) == len(large) == 1


class TestAccountsAndRoles:
    def test_one_accounts_q_never_finds_the_others_contacts(self, client, account, other_account):
        create(client, account, "Ada Ours", email="ada@ours.example", phone="+14155550100")
        create(
            client,
            other_account,
            "Ada Theirs",
            email="ada@theirs.example",
            phone="+14155550199",
            tags=["secret"],
        )
        assert found(client, account, "ada") == ["Ada Ours"]
        assert found(client, account, "theirs") == []
        assert found(client, account, "5550199") == []
        assert found(client, other_account, "415 555") == ["Ada Theirs"]
        assert listed(client, other_account)["items"][0]["tags"] == ["secret"]
        exported = client.get(
            account.url("/contacts/export"),
            headers=account.headers,
            query_string={"q": "ada", "columns": "name"},
        )
        assert csv_names(exported) == ["Ada Ours"]
        # Their account's list is out of reach whatever the search.
        theirs = client.get(
            other_account.url("/contacts"), headers=account.headers, query_string={"q": "ada"}
        )
        assert theirs.status_code == 404

    def test_an_agent_searches_a_member_without_contacts_read_cannot(
        self, client, account, agent, add_member
    ):
        create(client, account, "Ada Lovelace", tags=["vip"])
        page = listed(client, agent, q="lovelace")
        assert [(c["name"], c["tags"]) for c in page["items"]] == [("Ada Lovelace", ["vip"])]
        role = client.post(
            account.url("/roles"),
            json={"name": "Segmenter", "permissions": ["segments:manage"]},
            headers=account.headers,
        )
        assert role.status_code == 201, role.json
        blind = add_member(account.account_id, "segmenter", custom_role_id=role.json["id"])
        for path in ("/contacts", "/contacts/export"):
            refused = client.get(blind.url(path), headers=blind.headers, query_string={"q": "ada"})
            assert refused.status_code == 403
            assert refused.json["errors"]["permission"] == ["contacts:read"]


def test_q_and_tags_are_documented(client):
    spec = client.get("/openapi.json").json
    base = "/v1/accounts/{account_id}/contacts"
    for path in (base, f"{base}/export"):
        params = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert "every word" in params["q"]["description"]
    assert "q" in {p["name"] for p in spec["paths"][f"{base}/exports"]["post"]["parameters"]}
    schemas = spec["components"]["schemas"]
    assert "tags" in schemas["TaggedContactOut"]["required"]
