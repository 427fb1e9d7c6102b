"""CSV export of contacts: the list's rows, chosen columns, safe cells, and who may read it."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from crm.export import csv_chunks

STANDARD = ["id", "name", "email", "phone", "company", "created_at", "updated_at"]


def create(client, member, **fields):
    body = {"name": "Ada Lovelace", **fields}
    response = client.post(member.url("/contacts"), json=body, headers=member.headers)
    assert response.status_code == 201, response.json
    return response.json


def define(client, member, key, kind, **rules):
    body = {"entity": "contact", "key": key, "label": key.title(), "type": kind, **rules}
    response = client.post(member.url("/custom-fields"), json=body, headers=member.headers)
    assert response.status_code == 201, response.json


def export(client, member, **query):
    return client.get(member.url("/contacts/export"), headers=member.headers, query_string=query)


def rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_export_is_the_lists_rows_for_the_same_filter_and_sort(client, account):
    for name, company in [("Cy", "Acme"), ("Al", "Acme"), ("Bo", "Acme"), ("Di", "Other")]:
        create(client, account, name=name, company=company)
    query = {"filter": ["company:eq:Acme"], "sort": "name"}
    listed = client.get(account.url("/contacts"), headers=account.headers, query_string=query)
    response = export(client, account, **query)

    assert response.mimetype == "text/csv"
    today = datetime.now(UTC).date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="contacts-{today}.csv"'
    )
    header, *body = rows(response)
    assert header == STANDARD
    expected = [
        [c["id"], c["name"], "", "", c["company"], c["created_at"], c["updated_at"]]
        for c in listed.json["items"]
    ]
    assert [row[:5] for row in body] == [row[:5] for row in expected]
    assert [r[1] for r in body] == ["Al", "Bo", "Cy"]
    for row, contact in zip(body, listed.json["items"], strict=True):
        assert datetime.fromisoformat(row[5]) == datetime.fromisoformat(contact["created_at"])


def test_chosen_columns_include_custom_fields_and_the_default_has_them_all(client, account):
    define(client, account, "plan", "single_select", options=["free", "pro"])
    define(client, account, "colours", "multi_select", options=["red", "green", "blue"])
    define(client, account, "renews_on", "date")
    create(
        client,
        account,
        email="ada@example.com",
        custom_fields={"plan": "pro", "colours": ["blue", "red"], "renews_on": "2025-01-31"},
    )

    chosen = rows(export(client, account, columns="email,custom_fields.colours,name"))
    assert chosen == [
        ["email", "custom_fields.colours", "name"],
        ["ada@example.com", "red; blue", "Ada Lovelace"],
    ]
    header, row = rows(export(client, account))
    custom = ["custom_fields.plan", "custom_fields.colours", "custom_fields.renews_on"]
    assert header == STANDARD + custom
    assert row[len(STANDARD) :] == ["pro", "red; blue", "2025-01-31"]


def test_formula_cells_are_neutralised_while_phones_stay_intact(client, account):
    define(client, account, "note", "text")
    create(
        client,
        account,
        name='=HYPERLINK("http://evil.example","click")',
        phone="+1 415 555 0100",
        company="@SUM(A1:A9)",
        custom_fields={"note": "-2+3"},
    )
    create(client, account, name="+cmd|' /C calc'!A0", company="\tTabbed")
    response = export(
        client, account, columns="name,phone,company,custom_fields.note", sort="created_at"
    )
    assert rows(response)[1:] == [
        ['\'=HYPERLINK("http://evil.example","click")', "+14155550100", "'@SUM(A1:A9)", "'-2+3"],
        ["'+cmd|' /C calc'!A0", "", "'\tTabbed", ""],
    ]


def test_an_unknown_column_is_a_422_naming_columns(client, account):
    define(client, account, "plan", "text")
    response = export(client, account, columns="name,custom_fields.plan,nope,custom_fields.x")
    assert response.status_code == 422
    assert response.mimetype == "application/json"
    assert response.json["code"] == "validation_failed"
    (message,) = response.json["errors"]["columns"]
    assert "nope" in message and "custom_fields.x" in message
    assert "Content-Disposition" not in response.headers


def test_filter_and_sort_errors_answer_as_the_list_does(client, account):
    assert export(client, account, filter="colour:eq:red").json["code"] == "invalid_filter"
    assert export(client, account, sort="shoe_size").json["code"] == "invalid_sort"
    assert export(client, account, page=2).status_code == 422


def test_deleted_contacts_are_left_out(client, account):
    kept = create(client, account, name="Kept")
    gone = create(client, account, name="Gone")
    deleted = client.delete(account.url(f"/contacts/{gone['id']}"), headers=account.headers)
    assert deleted.status_code == 204
    assert rows(export(client, account, columns="id,name")) == [
        ["id", "name"],
        [kept["id"], "Kept"],
    ]


def test_rows_come_in_batches(client, account, monkeypatch):
    monkeypatch.setattr(
        "api.contacts_export.csv_chunks",
        lambda *a, **kw: csv_chunks(*a, **{**kw, "batch_size": 2}),
    )
    for n in range(5):
        create(client, account, name=f"C{n}")
    response = export(client, account, columns="name", sort="name")
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) == 1 + 3  # the header, then three batches of at most two rows
    text = b"".join(chunks).decode()
    assert list(csv.reader(io.StringIO(text))) == [["name"]] + [[f"C{n}"] for n in range(5)]


class TestAccess:
    @pytest.fixture
    def theirs(self, client, other_account):
        return create(client, other_account, name="Secret", email="secret@globex.example")

    def test_a_role_without_contacts_read_is_refused(self, client, account, add_member):
        role = client.post(
            account.url("/roles"),
            json={"name": "Auditor", "permissions": ["audit:read"]},
            headers=account.headers,
        )
        assert role.status_code == 201, role.json
        auditor = add_member(account.account_id, "auditor", custom_role_id=role.json["id"])
        response = export(client, auditor)
        assert response.status_code == 403
        assert response.json["errors"]["permission"] == ["contacts:read"]

    def test_agents_may_export(self, client, account, agent):
        create(client, account, name="Shared")
        assert [r[1] for r in rows(export(client, agent))[1:]] == ["Shared"]

    def test_another_accounts_url_is_404_and_never_its_data(
        self, client, account, other_account, theirs
    ):
        foreign = client.get(other_account.url("/contacts/export"), headers=account.headers)
        assert foreign.status_code == 404
        assert foreign.json["code"] == "account_not_found"
        assert "Secret" not in foreign.get_data(as_text=True)
        mine = rows(export(client, account))
        assert mine == [STANDARD]
        assert [r[1] for r in rows(export(client, other_account))[1:]] == ["Secret"]


def test_the_operation_is_documented_as_a_csv_download(client):
    spec = client.get("/openapi.json").json
    operation = spec["paths"]["/v1/accounts/{account_id}/contacts/export"]["get"]
    ok = operation["responses"]["200"]
    assert list(ok["content"]) == ["text/csv"]
    assert "Content-Disposition" in ok["headers"]
    assert {"400", "401", "403", "404", "422"} <= set(operation["responses"])
    names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert names == {"columns", "filter", "sort"}
