"""CSV export of contacts: the list's rows, chosen columns, safe cells, and who may read it."""

from __future__ import annotations

import csv
import io
import uuid
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
    assert names == {"columns", "filter", "q", "segment", "sort"}


# -- exports run as a job -----------------------------------------------------------------


def export_job(client, member, **query):
    return client.post(member.url("/contacts/exports"), headers=member.headers, query_string=query)


def export_state(client, member, export_id):
    response = client.get(member.url(f"/contacts/exports/{export_id}"), headers=member.headers)
    assert response.status_code == 200, response.json
    return response.json


def download(client, member, export_id):
    return client.get(member.url(f"/contacts/exports/{export_id}/download"), headers=member.headers)


class TestExportJob:
    def test_the_worker_writes_what_the_download_would_answer(self, client, account, run_jobs):
        for name, company in [("Cy", "Acme"), ("Al", "Acme"), ("Bo", "Other")]:
            create(client, account, name=name, company=company)
        query = {"filter": ["company:eq:Acme"], "sort": "name", "columns": "name,company"}
        asked = export_job(client, account, **query)
        assert asked.status_code == 202, asked.json
        assert asked.json["status"] == "queued"
        assert asked.json["total_rows"] == 2
        assert asked.json["download_url"] is None
        waiting = download(client, account, asked.json["id"])
        assert (waiting.status_code, waiting.json["code"]) == (409, "contact_export_not_ready")

        run_jobs()
        done = export_state(client, account, asked.json["id"])
        assert done["status"] == "completed"
        assert done["rows_done"] == 2
        assert done["download_url"].endswith(f"/contacts/exports/{asked.json['id']}/download")
        got = download(client, account, asked.json["id"])
        assert got.mimetype == "text/csv"
        assert rows(got) == rows(export(client, account, **query))
        assert rows(got) == [["name", "company"], ["Al", "Acme"], ["Cy", "Acme"]]

    def test_contacts_are_chosen_when_asked_and_deleted_ones_left_out(
        self, client, account, run_jobs
    ):
        kept, gone = create(client, account, name="Kept"), create(client, account, name="Gone")
        asked = export_job(client, account, columns="name")
        create(client, account, name="Later")  # after the request: not in this export
        deleted = client.delete(account.url(f"/contacts/{gone['id']}"), headers=account.headers)
        assert deleted.status_code == 204
        run_jobs()
        assert rows(download(client, account, asked.json["id"])) == [["name"], [kept["name"]]]
        assert export_state(client, account, asked.json["id"])["rows_done"] == 1

    def test_a_dead_worker_is_replaced_by_the_deadline_timer(self, app, client, account, run_jobs):
        from crm import exports
        from events import timers
        from tenants.db import utcnow

        create(client, account, name="Ada")
        asked = export_job(client, account)
        # the job never runs (its worker died): past the deadline the timer queues it again
        with app.app_context():
            timers.fire_due(limit=10_000, now=utcnow() + exports.DEADLINE)
        assert export_state(client, account, asked.json["id"])["status"] == "queued"
        run_jobs()  # the first job and the one queued again: one file, one completion
        assert export_state(client, account, asked.json["id"])["status"] == "completed"
        assert rows(download(client, account, asked.json["id"]))[1][1] == "Ada"

    def test_errors_are_the_downloads(self, client, account):
        bad = export_job(client, account, columns="nope")
        assert (bad.status_code, bad.json["errors"]) == (
            422,
            {"columns": [bad.json["errors"]["columns"][0]]},
        )
        assert export_job(client, account, filter="nope:eq:1").status_code == 400
        missing = client.get(
            account.url("/contacts/exports/00000000-0000-0000-0000-000000000000"),
            headers=account.headers,
        )
        assert (missing.status_code, missing.json["code"]) == (404, "contact_export_not_found")

    def test_an_expired_file_is_gone(self, app, client, account, run_jobs):
        from sqlalchemy import update

        from crm.files import StoredFile
        from tenants.db import utcnow
        from tenants.registry import registry
        from tenants.session import tenant_session

        create(client, account)
        asked = export_job(client, account)
        run_jobs()
        account_id = uuid.UUID(account.account_id)
        with app.app_context(), tenant_session(registry().get(account_id)) as s:
            s.execute(update(StoredFile).values(expires_at=utcnow()))
        gone = download(client, account, asked.json["id"])
        assert (gone.status_code, gone.json["code"]) == (410, "contact_export_expired")

    def test_other_accounts_and_roles_without_contacts_read_see_nothing(
        self, client, account, other_account, agent, add_member, run_jobs
    ):
        create(client, other_account, name="Secret")
        theirs = export_job(client, other_account)
        run_jobs()
        for path in ("", "/download"):
            url = account.url(f"/contacts/exports/{theirs.json['id']}{path}")
            response = client.get(url, headers=account.headers)
            assert (response.status_code, response.json["code"]) == (
                404,
                "contact_export_not_found",
            )
        listed = client.get(account.url("/contacts/exports"), headers=account.headers)
        assert listed.json == {"items": []}
        mine = export_job(client, agent)  # an agent may export, as they may download
        assert mine.status_code == 202
        listed = client.get(account.url("/contacts/exports"), headers=account.headers)
        assert [e["id"] for e in listed.json["items"]] == [mine.json["id"]]
        role = client.post(
            account.url("/roles"),
            json={"name": "Auditor", "permissions": ["audit:read"]},
            headers=account.headers,
        )
        auditor = add_member(account.account_id, "auditor", custom_role_id=role.json["id"])
        for response in (
            export_job(client, auditor),
            client.get(account.url("/contacts/exports"), headers=auditor.headers),
            download(client, auditor, mine.json["id"]),
        ):
            assert response.status_code == 403
