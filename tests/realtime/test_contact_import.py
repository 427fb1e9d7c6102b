"""An import's progress reaches the importer's browser after each batch, through a web
process the worker never talks to; another agent of the account hears none of it."""

from __future__ import annotations

import time
import uuid

from crm.imports import runner
from tenants.registry import registry
from tests.api.test_contacts_import import call, uploaded


def test_the_importer_hears_each_batch_and_nobody_else_does(
    app, client, web, listener, account, add_member
):
    colleague = add_member(account.account_id)
    hers = listener().connect(web[0].url, account)
    his = listener().connect(web[1].url, colleague)
    rows = "\n".join(f"P{n},p{n}@example.com" for n in range(5))
    found = uploaded(client, account, f"name,email\n{rows}\nBad,nope\n")
    assert call(client, account, "post", found["id"], "/start").status_code == 202
    with app.app_context():  # the job's own code, with batches of two rows
        account_record = registry().get(uuid.UUID(account.account_id))
        runner.run_import(account_record, uuid.UUID(found["id"]), batch_size=2)

    pushes = hers.wait_for("contact_import.progress", count=5)
    assert {push["room"] for push in pushes} == {f"user:{account.account_id}:{account.user_id}"}
    assert all(push["data"]["account_id"] == account.account_id for push in pushes)
    progress = [push["data"]["import"] for push in pushes]
    assert [(p["status"], p["rows_done"], p["created"]) for p in progress] == [
        ("running", 0, 0),  # a worker took it
        ("running", 2, 2),  # then a push per batch
        ("running", 4, 4),
        ("running", 6, 5),
        ("completed", 6, 5),
    ]
    rest = call(client, account, "get", found["id"]).json
    assert progress[-1] == {key: rest[key] for key in progress[-1]}
    assert (rest["failed"], rest["total_rows"]) == (1, 6)

    time.sleep(0.5)  # long enough for a stray push to arrive
    assert his.named("contact_import.progress") == []
