"""An export's end reaches the requester's browser through a web process the worker
never talks to; another agent of the account hears nothing of it."""

from __future__ import annotations

import time

from tests.api.test_contacts_export import export_job, export_state


def test_the_requester_hears_the_export_is_done_and_nobody_else_does(
    client, web, listener, account, add_member, run_jobs
):
    colleague = add_member(account.account_id)
    hers = listener().connect(web[0].url, account)
    his = listener().connect(web[1].url, colleague)
    created = client.post(account.url("/contacts"), json={"name": "Ada"}, headers=account.headers)
    assert created.status_code == 201, created.json
    asked = export_job(client, account)
    assert asked.status_code == 202, asked.json
    run_jobs()

    (push,) = hers.wait_for("contact_export.completed")
    assert push["room"] == f"user:{account.account_id}:{account.user_id}"
    assert push["data"]["account_id"] == account.account_id
    state = export_state(client, account, asked.json["id"])
    heard = push["data"]["export"]
    assert heard == {key: state[key] for key in heard}
    assert (heard["status"], heard["rows_done"]) == ("completed", 1)

    time.sleep(0.5)  # long enough for a stray push to arrive
    assert his.named("contact_export.completed") == []
    assert hers.named("contact_export.failed") == []
