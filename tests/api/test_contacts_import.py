"""Contact imports from CSV: upload, mapping, dry run, the import in a worker, the error
report, the duplicates policies, and who may do it."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from audit.models import AuditEntry
from crm.files import StoredFile, StoredFileChunk
from crm.imports import runner, service
from crm.imports.models import RejectedRow
from crm.imports.rows import Reader, read_batches
from events import names
from events.outbox import OutboxEvent
from events.timers import fire_due
from tenants.db import utcnow
from tenants.registry import registry
from tenants.session import tenant_session

HEADER = "Full Name,E-mail,Mobile,Organisation,Plan,Seats,Renews,VIP,Colours,Tags,Shoe size"


def upload(client, member, content, filename="contacts.csv"):
    body = content.encode() if isinstance(content, str) else content
    return client.post(
        member.url("/contacts/imports"),
        data={"file": (io.BytesIO(body), filename)},
        headers=member.headers,
        content_type="multipart/form-data",
    )


def uploaded(client, member, content, **kwargs) -> dict:
    response = upload(client, member, content, **kwargs)
    assert response.status_code == 201, response.json
    return response.json


def define(client, member, key, kind, label=None, **rules):
    body = {"entity": "contact", "key": key, "label": label or key.title(), "type": kind, **rules}
    response = client.post(member.url("/custom-fields"), json=body, headers=member.headers)
    assert response.status_code == 201, response.json


def define_plan_fields(client, member):
    define(client, member, "plan", "single_select", options=["free", "pro"])
    define(client, member, "seats", "number")
    define(client, member, "renews_on", "date", label="Renews")
    define(client, member, "vip", "boolean", label="VIP")
    define(client, member, "colours", "multi_select", options=["red", "green", "blue"])


def call(client, member, method, import_id, action="", **kwargs):
    path = member.url(f"/contacts/imports/{import_id}{action}")
    return getattr(client, method)(path, headers=member.headers, **kwargs)


def imported(client, member, run_jobs, content, **settings) -> dict:
    """Upload ``content``, apply ``settings`` (mapping, duplicates), run the import."""
    found = uploaded(client, member, content)
    if settings:
        patched = call(client, member, "patch", found["id"], json=settings)
        assert patched.status_code == 200, patched.json
    started = call(client, member, "post", found["id"], "/start")
    assert started.status_code == 202, started.json
    assert started.json["status"] == "queued"
    run_jobs()
    return call(client, member, "get", found["id"]).json


def contacts(client, member) -> dict[str, dict]:
    """The account's contacts by name."""
    found = client.get(
        member.url("/contacts"), headers=member.headers, query_string={"per_page": 100}
    ).json["items"]
    return {c["name"]: c for c in found}


def create(client, member, **fields):
    response = client.post(member.url("/contacts"), json=fields, headers=member.headers)
    assert response.status_code == 201, response.json
    return response.json


def report(client, member, import_id) -> list[list[str]]:
    response = call(client, member, "get", import_id, "/errors")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# --- upload and mapping ----------------------------------------------------------------


def test_upload_reads_the_layout_and_suggests_a_mapping(client, account):
    define_plan_fields(client, account)
    rows = ["Ada,ada@example.com,+14155550100,Acme,pro,3,2025-01-31,yes,red; blue,a,44"] * 7
    found = uploaded(client, account, "\n".join([HEADER, *rows, "", ",,,"]) + "\n")

    assert found["status"] == "pending"
    assert (found["encoding"], found["delimiter"]) == ("utf-8-sig", ",")
    assert found["headers"] == HEADER.split(",")
    assert found["total_rows"] == 7  # blank rows are not counted
    assert found["samples"] == [rows[0].split(",")] * 5
    assert found["mapping"] == {
        "Full Name": "name",
        "E-mail": "email",
        "Mobile": "phone",
        "Organisation": "company",
        "Plan": "custom_fields.plan",
        "Seats": "custom_fields.seats",
        "Renews": "custom_fields.renews_on",
        "VIP": "custom_fields.vip",
        "Colours": "custom_fields.colours",
        "Tags": "tags",
        "Shoe size": None,
    }
    assert found["ignored_columns"] == ["Shoe size"]
    assert found["duplicates"] == "skip"
    assert found["rows_done"] == found["created"] == 0


def test_a_target_goes_to_the_first_column_asking_for_it_and_own_names_come_first(client, account):
    define(client, account, "mobile", "phone", label="Mobile")
    found = uploaded(client, account, "Email,E-mail,Mobile,Phone number,name\nx,y,z,w,v\n")
    assert found["mapping"] == {
        "Email": "email",
        "E-mail": None,
        "Mobile": "custom_fields.mobile",  # the account's own field beats the synonym
        "Phone number": "phone",
        "name": "name",
    }


def test_a_bom_and_semicolons(client, account, run_jobs):
    body = '\ufeffname;email;company\r\nAda;ADA@Example.com;"Acme; Inc"\r\n'.encode()
    found = uploaded(client, account, body)
    assert (found["delimiter"], found["headers"]) == (";", ["name", "email", "company"])
    assert found["mapping"] == {"name": "name", "email": "email", "company": "company"}
    call(client, account, "post", found["id"], "/start")
    run_jobs()
    (ada,) = contacts(client, account).values()
    assert (ada["email"], ada["company"]) == ("ada@example.com", "Acme; Inc")


def test_tabs_and_windows_1252(client, account, run_jobs):
    found = uploaded(client, account, "name\tcompany\nZoë\tCafé\n".encode("cp1252"))
    assert (found["encoding"], found["delimiter"]) == ("cp1252", "\t")
    call(client, account, "post", found["id"], "/start")
    run_jobs()
    assert contacts(client, account)["Zoë"]["company"] == "Café"


def test_a_raw_text_csv_body(client, account):
    response = client.post(
        account.url("/contacts/imports?filename=people.csv"),
        data=b"name,email\nAda,ada@example.com\n",
        headers=account.headers,
        content_type="text/csv",
    )
    assert response.status_code == 201, response.json
    assert (response.json["filename"], response.json["total_rows"]) == ("people.csv", 1)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "import_no_header"),
        (b" , ,\nAda,x\n", "import_no_header"),
        (b"name,email,name\nAda,x,y\n", "import_duplicate_columns"),
        (b"name\n\x81\x8d\x8f caf\xc3\n", "import_unsupported_encoding"),
        (b"PK\x03\x04\x00\x00binary", "import_not_csv"),
        (b"name\n" + b"Ada\n" * 2000 + b"B\x00b\n", "import_not_csv"),  # past the sniffed start
    ],
)
def test_unreadable_files_are_refused(client, account, content, code):
    response = upload(client, account, content)
    assert response.status_code == 422
    assert response.json["code"] == code
    listed = client.get(account.url("/contacts/imports"), headers=account.headers)
    assert listed.json["items"] == []


def test_what_is_not_a_file_is_refused(client, account):
    json_body = client.post(account.url("/contacts/imports"), json={}, headers=account.headers)
    assert json_body.status_code == 422
    assert json_body.json["errors"] == {"file": ["required"]}
    xml = client.post(
        account.url("/contacts/imports"),
        data=b"<x/>",
        headers=account.headers,
        content_type="application/xml",
    )
    assert xml.status_code == 415
    elsewhere = client.post(
        account.url("/contacts"),
        data=b"name\nAda\n",
        headers=account.headers,
        content_type="text/csv",
    )
    assert elsewhere.status_code == 415  # only the upload takes files


def test_files_have_their_own_size_limit(make_app, account):
    small = make_app(import_max_bytes=400, max_content_length=50).test_client()
    fits = upload(small, account, "name\n" + "Ada\n" * 25)  # 105 bytes: over the global 50
    assert fits.status_code == 201, fits.json
    assert fits.json["total_rows"] == 25
    too_big = upload(small, account, "name\n" + "Ada\n" * 100)
    assert too_big.status_code == 413
    raw = small.post(
        account.url("/contacts/imports"),
        data=b"name\n" + b"Ada\n" * 100,
        headers=account.headers,
        content_type="text/csv",
    )
    assert raw.status_code == 413
    assert raw.json["code"] == "payload_too_large"
    listed = small.get(account.url("/contacts/imports"), headers=account.headers).json
    assert [i["id"] for i in listed["items"]] == [fits.json["id"]]


def test_the_mapping_is_checked_and_replaced_whole(client, account):
    define(client, account, "plan", "text")
    found = uploaded(client, account, "Who,Mail,Plan,Notes\nAda,ada@example.com,pro,x\n")
    assert found["mapping"] == {
        "Who": None,
        "Mail": "email",
        "Plan": "custom_fields.plan",
        "Notes": None,
    }

    def patch(**body):
        return call(client, account, "patch", found["id"], json=body)

    refused = patch(mapping={"Who": "nickname", "Missing": "name", "Mail": "email"})
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {"mapping.Who", "mapping.Missing"}
    twice = patch(mapping={"Who": "name", "Mail": "name"})
    assert twice.status_code == 422
    assert twice.json["errors"] == {"mapping.Mail": ["name is already mapped from 'Who'"]}
    empty = patch(mapping={"Who": None})
    assert empty.status_code == 422
    assert "mapping" in empty.json["errors"]
    assert patch(duplicates="merge").status_code == 422

    ok = patch(mapping={"Who": "name", "Notes": "custom_fields.plan"}, duplicates="update")
    assert ok.status_code == 200, ok.json
    assert ok.json["mapping"] == {
        "Who": "name",
        "Mail": None,
        "Plan": None,
        "Notes": "custom_fields.plan",
    }
    assert ok.json["ignored_columns"] == ["Mail", "Plan"]
    assert ok.json["duplicates"] == "update"


# --- the dry run -------------------------------------------------------------------------


def test_the_dry_run_reports_what_would_happen_and_writes_nothing(client, account):
    define_plan_fields(client, account)
    define(client, account, "region", "text", required=True)
    existing = create(
        client, account, name="Known", email="known@example.com", custom_fields={"region": "EU"}
    )
    header = "name,email,phone,seats,vip,region"
    rows = [
        "Ada,ada@example.com,+14155550100,3,yes,EU",  # 2: new
        "Bob,not-an-email,12,many,maybe,EU",  # 3: four bad cells
        ",cy@example.com,,,,EU",  # 4: no name
        "Di,di@example.com,,,,",  # 5: the required field missing
        "Ada again,ADA@example.com,,,,EU",  # 6: the file's row 2
        "Known again,known@example.com,,,,EU",  # 7: an existing contact
    ]
    found = uploaded(client, account, "\n".join([header, *rows]))
    response = call(client, account, "post", found["id"], "/preview", json={})
    assert response.status_code == 200, response.json
    result = response.json
    assert result["rows_checked"] == result["total_rows"] == 6
    assert result["would"] == {"create": 1, "update": 0, "skip": 2, "fail": 3}
    assert result["duplicates"] == {"in_file": 1, "existing": 1}
    errors = {e["row"]: e["errors"] for e in result["errors"]}
    assert set(errors) == {3, 4, 5}
    assert set(errors[3]) == {"email", "phone", "custom_fields.seats", "custom_fields.vip"}
    assert errors[4] == {"name": ["required to create a contact"]}
    assert errors[5] == {"custom_fields.region": ["required"]}

    create_policy = call(client, account, "patch", found["id"], json={"duplicates": "create"})
    assert create_policy.status_code == 200
    result = call(client, account, "post", found["id"], "/preview", json={"limit": 6}).json
    assert result["would"] == {"create": 1, "update": 0, "skip": 0, "fail": 5}
    by_row = {e["row"]: e for e in result["errors"]}
    assert by_row[6]["errors"] == {"email": ["already used by another contact"]}
    assert (by_row[6]["duplicate_of_row"], by_row[6]["duplicate_of"]) == (2, None)
    assert by_row[7]["duplicate_of"] == existing["id"]

    limited = call(client, account, "post", found["id"], "/preview", json={"limit": 2}).json
    assert limited["rows_checked"] == 2
    assert list(contacts(client, account)) == ["Known"]  # nothing written
    assert call(client, account, "get", found["id"]).json["status"] == "pending"


# --- importing ---------------------------------------------------------------------------


def test_an_import_with_bad_rows_duplicates_and_unknown_columns(app, client, account, run_jobs):
    define_plan_fields(client, account)
    create(client, account, name="Known", email="known@example.com", company="Old")
    rows = [
        "Ada Lovelace,ADA@example.com,+1 (415) 555-0100,Acme,pro,3,2025-01-31,yes,blue; red,"
        "vip; Early adopter,44",
        'Bob,bob@example.com,,"Bob, Inc",free,1.5,2025-02-01,no,,,40',
        "Cy,cy@,+1 415,Acme,gold,lots,someday,maybe,purple,,41",
        "Ada twin,ada@example.com,,,,,,,,,",
        "Known again,known@example.com,,New,,,,,,,",
        "'=Formula,formula@example.com,,,,,,,,,",
        ",noname@example.com,,,,,,,,,",
    ]
    done = imported(client, account, run_jobs, "\n".join([HEADER, *rows]) + "\n")

    assert done["status"] == "completed", done
    assert (done["rows_done"], done["total_rows"]) == (7, 7)
    assert (done["created"], done["updated"], done["skipped"], done["failed"]) == (3, 0, 2, 2)
    assert done["started_at"] and done["finished_at"]
    people = contacts(client, account)
    assert set(people) == {"Ada Lovelace", "Bob", "=Formula", "Known"}
    ada = people["Ada Lovelace"]
    assert (ada["email"], ada["phone"], ada["company"]) == (
        "ada@example.com",
        "+14155550100",
        "Acme",
    )
    assert ada["custom_fields"] == {
        "plan": "pro",
        "seats": 3,
        "renews_on": "2025-01-31",
        "vip": True,
        "colours": ["red", "blue"],
    }
    assert people["Bob"]["custom_fields"] == {
        "plan": "free",
        "seats": 1.5,
        "renews_on": "2025-02-01",
        "vip": False,
    }
    assert people["Bob"]["company"] == "Bob, Inc"
    assert people["Known"]["company"] == "Old"  # skipped: untouched
    tags = client.get(account.url(f"/contacts/{ada['id']}/tags"), headers=account.headers)
    assert sorted(tags.json["tags"]) == ["Early adopter", "vip"]

    header, *refused = report(client, account, done["id"])
    assert header == [*HEADER.split(","), "errors"]
    defused = rows[2].replace("+1 415", "'+1 415")  # as the export defuses a formula
    assert [row[:-1] for row in refused] == [defused.split(","), rows[6].split(",")]
    cy, noname = (row[-1] for row in refused)
    for column in ("E-mail", "Mobile", "Plan", "Seats", "Renews", "VIP", "Colours"):
        assert f"{column}: " in cy
    assert noname == "Full Name: required to create a contact"


def test_update_policy_fills_in_and_never_creates_twice(client, account, run_jobs):
    define_plan_fields(client, account)
    known = create(
        client,
        account,
        name="Known",
        email="known@example.com",
        phone="+14155550100",
        custom_fields={"plan": "free", "seats": 2},
    )
    rows = [
        "Known,known@example.com,,New Co,pro,,,,,regular,",  # fills company, plan; keeps seats
        "Ada,ada@example.com,,,,,,,,,",  # creates
        "Ada L.,ada@example.com,+14155550199,Acme,,,,,,,",  # the same contact again
        "Known,known@example.com,,New Co,,,,,,,",  # nothing new: skipped
        "Clash,known@example.com,+14155550199,,,,,,,,",  # email Known's, phone Ada's
        "Known,other@example.com,+14155550100,,,,,,,,",  # found by phone: a new email
        "Swap,known@example.com,+14155550199,,,,,,,,",  # Ada takes Known's old email
    ]
    done = imported(client, account, run_jobs, "\n".join([HEADER, *rows]), duplicates="update")
    assert (done["created"], done["updated"], done["skipped"], done["failed"]) == (1, 4, 1, 1)
    people = contacts(client, account)
    assert set(people) == {"Known", "Swap"}
    known_now = people["Known"]
    assert known_now["id"] == known["id"]
    assert (known_now["email"], known_now["company"]) == ("other@example.com", "New Co")
    assert known_now["custom_fields"] == {"plan": "pro", "seats": 2}
    tags = client.get(account.url(f"/contacts/{known['id']}/tags"), headers=account.headers)
    assert tags.json["tags"] == ["regular"]
    ada = people["Swap"]
    assert (ada["email"], ada["phone"], ada["company"]) == (
        "known@example.com",
        "+14155550199",
        "Acme",
    )
    (_, clash) = report(client, account, done["id"])
    assert clash[0] == "Clash"
    assert clash[-1] == "Mobile: belongs to another contact than the email does"


def test_create_policy_refuses_every_duplicate(client, account, run_jobs):
    known = create(client, account, name="Known", email="known@example.com")
    content = "name,email\nAda,ada@example.com\nAda 2,ada@example.com\nK,known@example.com\n"
    done = imported(client, account, run_jobs, content, duplicates="create")
    assert (done["created"], done["failed"]) == (1, 2)
    assert set(contacts(client, account)) == {"Known", "Ada"}
    _, *refused = report(client, account, done["id"])
    assert refused == [
        ["Ada 2", "ada@example.com", "email: already used by another contact"],
        ["K", "known@example.com", "email: already used by another contact"],
    ]
    assert contacts(client, account)["Known"]["id"] == known["id"]


def test_skip_policy_skips_in_file_duplicates_across_batches(app, client, account):
    rows = [f"P{n},p{n % 4}@example.com" for n in range(10)]
    found = uploaded(client, account, "name,email\n" + "\n".join(rows))
    call(client, account, "post", found["id"], "/start")
    with app.app_context():
        status = runner.run_import(
            registry().get(uuid.UUID(account.account_id)), uuid.UUID(found["id"]), batch_size=3
        )
    assert status == "completed"
    done = call(client, account, "get", found["id"]).json
    assert (done["created"], done["skipped"], done["rows_done"]) == (4, 6, 10)
    assert set(contacts(client, account)) == {"P0", "P1", "P2", "P3"}


def test_rows_read_in_other_processes_are_the_same_and_in_file_order():
    reader = Reader(["name", "email"], {"name": "name", "email": "email"}, {}, region=None)
    cells = [(n, [f"P{n}", f"p{n}@example.com" if n % 3 else "nope"]) for n in range(2, 60)]
    batches = [cells[start : start + 7] for start in range(0, len(cells), 7)]
    here = list(read_batches(reader, batches, processes=0))
    elsewhere = list(read_batches(reader, batches, processes=2))
    assert elsewhere == here
    assert [row.number for batch in elsewhere for row in batch] == list(range(2, 60))
    refused = [row.number for batch in elsewhere for row in batch if row.errors]
    assert refused == list(range(3, 60, 3))


def test_a_large_import_reads_its_rows_in_other_processes(app, client, account, monkeypatch):
    monkeypatch.setattr(runner, "PARALLEL_FROM", 10)  # "large": the real bar is 10,000 rows
    rows = [f"P{n},{f'p{n}@example.com' if n % 4 else 'nope'}" for n in range(40)]
    found = uploaded(client, account, "name,email\n" + "\n".join(rows))
    call(client, account, "post", found["id"], "/start")
    with app.app_context():
        account_record = registry().get(uuid.UUID(account.account_id))
        assert runner.run_import(account_record, uuid.UUID(found["id"]), batch_size=6) == (
            "completed"
        )
    done = call(client, account, "get", found["id"]).json
    assert (done["created"], done["failed"], done["rows_done"]) == (30, 10, 40)
    _, *refused = report(client, account, found["id"])
    assert [row[0] for row in refused] == [f"P{n}" for n in range(0, 40, 4)]


def test_export_then_import_gives_the_same_contacts(client, account, other_account, run_jobs):
    for member in (account, other_account):
        define_plan_fields(client, member)
        define(client, member, "note", "text")
    create(
        client,
        account,
        name="Ada Lovelace",
        email="ada@example.com",
        phone="+44 20 7946 0958",
        company="Analytical",
        custom_fields={
            "plan": "pro",
            "seats": 12,
            "vip": True,
            "colours": ["red", "blue"],
            "note": "-2+3",
        },
    )
    create(
        client,
        account,
        name='=HYPERLINK("x")',
        company="@Risky, Ltd",
        custom_fields={"renews_on": "2026-03-01", "note": 'He said "hi"\nthen left'},
    )
    create(client, account, name="Plain", phone="+14155550100", custom_fields={"seats": 0.5})

    def exported(member) -> list[dict]:
        response = client.get(
            member.url("/contacts/export"), headers=member.headers, query_string={"sort": "name"}
        )
        assert response.status_code == 200
        kept = [dict(row) for row in csv.DictReader(io.StringIO(response.get_data(as_text=True)))]
        return [
            {k: v for k, v in row.items() if k not in ("id", "created_at", "updated_at")}
            for row in kept
        ]

    original = exported(account)
    response = client.get(account.url("/contacts/export"), headers=account.headers)
    done = imported(client, other_account, run_jobs, response.get_data())
    assert (done["created"], done["failed"]) == (3, 0), done
    assert set(done["ignored_columns"]) == {"id", "created_at", "updated_at"}
    assert exported(other_account) == original


# --- the import's life -------------------------------------------------------------------


def test_the_life_of_an_import_and_its_refusals(client, account, run_jobs):
    first = uploaded(client, account, "name\nAda\n")
    second = uploaded(client, account, "name\nBob\n")
    listed = client.get(account.url("/contacts/imports"), headers=account.headers).json
    assert [i["id"] for i in listed["items"]] == [second["id"], first["id"]]
    assert listed["meta"]["total"] == 2

    assert call(client, account, "post", first["id"], "/resume").json["code"] == (
        "import_not_resumable"
    )
    assert call(client, account, "post", first["id"], "/start").status_code == 202
    again = call(client, account, "post", first["id"], "/start")
    assert (again.status_code, again.json["code"]) == (409, "import_started")
    late = call(client, account, "patch", first["id"], json={"duplicates": "update"})
    assert (late.status_code, late.json["code"]) == (409, "import_started")
    run_jobs()
    done = call(client, account, "get", first["id"]).json
    assert done["status"] == "completed"
    assert call(client, account, "post", first["id"], "/cancel").json["code"] == "import_finished"
    assert call(client, account, "post", first["id"], "/resume").status_code == 409

    cancelled = call(client, account, "post", second["id"], "/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json["status"] == "cancelled" and cancelled.json["finished_at"]
    assert call(client, account, "post", second["id"], "/start").status_code == 409
    assert call(client, account, "post", second["id"], "/preview", json={}).json["code"] == (
        "import_file_gone"  # an ended import's file is deleted
    )
    filtered = client.get(
        account.url("/contacts/imports"),
        headers=account.headers,
        query_string={"filter": "status:eq:cancelled"},
    ).json
    assert [i["id"] for i in filtered["items"]] == [second["id"]]


def test_an_upload_never_started_expires_with_its_file(app, client, account):
    found = uploaded(client, account, "name\nAda\n")
    later = utcnow() + service.FILE_KEPT + timedelta(seconds=1)
    with app.app_context():
        account_record = registry().get(uuid.UUID(account.account_id))
        with tenant_session(account_record) as session:
            assert session.scalar(select(func.count()).select_from(StoredFileChunk)) == 1
        fire_due(limit=10_000, now=later)  # the account's purge timer
        with tenant_session(account_record) as session:
            assert session.scalar(select(func.count()).select_from(StoredFile)) == 0
            assert session.scalar(select(func.count()).select_from(StoredFileChunk)) == 0
    for action in ("/preview", "/start"):
        gone = call(client, account, "post", found["id"], action, json={})
        assert (gone.status_code, gone.json["code"]) == (409, "import_file_gone")
    assert call(client, account, "get", found["id"]).json["status"] == "pending"


def test_an_import_cancelled_before_a_worker_took_it_imports_nothing(
    app, client, account, run_jobs
):
    found = uploaded(client, account, "name\nAda\nBob\n")
    call(client, account, "post", found["id"], "/start")
    assert call(client, account, "post", found["id"], "/cancel").status_code == 200
    run_jobs()
    done = call(client, account, "get", found["id"]).json
    assert (done["status"], done["rows_done"]) == ("cancelled", 0)
    assert contacts(client, account) == {}
    with app.app_context():  # and a late run finds nothing to do
        account_record = registry().get(uuid.UUID(account.account_id))
        assert runner.run_import(account_record, uuid.UUID(found["id"])) == "cancelled"


def test_an_import_is_audited_and_announced_once(app, client, account, run_jobs):
    done = imported(client, account, run_jobs, "name,email\nAda,ada@example.com\nBob,x\n")
    with app.app_context(), tenant_session(registry().get(uuid.UUID(account.account_id))) as s:
        actions = s.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.target_id == done["id"])
            .order_by(AuditEntry.occurred_at)
        ).all()
        per_contact = s.scalar(select(func.count()).where(AuditEntry.action == "contact.created"))
        events = s.execute(
            select(OutboxEvent.name, OutboxEvent.payload).where(
                OutboxEvent.account_id == uuid.UUID(account.account_id),
                OutboxEvent.name.in_([names.CONTACTS_IMPORTED, names.CONTACT_CREATED]),
            )
        ).all()
        rejected = s.scalar(select(func.count()).select_from(RejectedRow))
    assert actions == ["contact_import.started", "contact_import.completed"]
    assert per_contact == 0
    ((name, payload),) = events
    assert name == names.CONTACTS_IMPORTED
    assert (payload["created"], payload["failed"], payload["filename"]) == (1, 1, "contacts.csv")
    assert rejected == 1


# --- who may ----------------------------------------------------------------------------


class TestAccess:
    ACTIONS = [
        ("get", ""),
        ("patch", ""),
        ("post", "/preview"),
        ("post", "/start"),
        ("post", "/cancel"),
        ("post", "/resume"),
        ("get", "/errors"),
    ]

    def test_agents_may_import(self, client, account, agent, run_jobs):
        done = imported(client, agent, run_jobs, "name\nAda\n")
        assert done["status"] == "completed"
        assert done["created_by"] == agent.user_id
        assert call(client, account, "get", done["id"]).json["id"] == done["id"]

    def test_a_role_without_contacts_write_is_refused_everywhere(self, client, account, add_member):
        role = client.post(
            account.url("/roles"),
            headers=account.headers,
            json={"name": "Reader", "permissions": ["contacts:read"]},
        )
        assert role.status_code == 201, role.json
        reader = add_member(account.account_id, "reader", custom_role_id=role.json["id"])
        found = uploaded(client, account, "name\nAda\n")
        assert upload(client, reader, "name\nBob\n").status_code == 403
        listed = client.get(reader.url("/contacts/imports"), headers=reader.headers)
        assert listed.status_code == 403
        for method, action in self.ACTIONS:
            kwargs = {"json": {}} if method != "get" else {}
            response = call(client, reader, method, found["id"], action, **kwargs)
            assert response.status_code == 403, (method, action)
            assert response.json["errors"]["permission"] == ["contacts:write"]

    def test_another_accounts_import_is_not_found_and_never_touched(
        self, client, account, other_account
    ):
        theirs = uploaded(client, other_account, "name\nSecret\n")
        for method, action in self.ACTIONS:
            kwargs = {"json": {}} if method != "get" else {}
            response = call(client, account, method, theirs["id"], action, **kwargs)
            assert response.status_code == 404, (method, action)
            assert response.json["code"] == "contact_import_not_found"
        foreign = client.get(other_account.url("/contacts/imports"), headers=account.headers)
        assert (foreign.status_code, foreign.json["code"]) == (404, "account_not_found")
        mine = client.get(account.url("/contacts/imports"), headers=account.headers).json
        assert mine["items"] == []
        still = call(client, other_account, "get", theirs["id"]).json
        assert still["status"] == "pending"


def test_the_upload_is_documented_as_a_file(client):
    spec = client.get("/openapi.json").json
    operation = spec["paths"]["/v1/accounts/{account_id}/contacts/imports"]["post"]
    assert list(operation["requestBody"]["content"]) == ["multipart/form-data"]
    assert {"201", "413", "415", "422"} <= set(operation["responses"])
    errors = spec["paths"]["/v1/accounts/{account_id}/contacts/imports/{import_id}/errors"]
    assert list(errors["get"]["responses"]["200"]["content"]) == ["text/csv"]
