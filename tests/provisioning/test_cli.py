"""``flask tenants …``: the lifecycle as an operator drives it, checked through the API."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select, text

from migrations import tenant_head
from tenants.db import db
from tenants.models import Account, Membership, Role


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(args=["tenants", *args], input=input)

    return invoke


def ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def fails(result, message: str) -> str:
    """A clean error exit: Click's "Error: …" line, no traceback."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert message in result.output
    return result.output


def schema_exists(app, schema: str) -> bool:
    with app.app_context(), db.engine.connect() as conn:
        return bool(
            conn.scalar(text("SELECT count(*) FROM pg_namespace WHERE nspname = :s"), {"s": schema})
        )


def schema_of(app, account_id: str) -> str:
    return f"t_{uuid.UUID(account_id).hex}"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def contacts(client, member, headers=None):
    return client.get(member.url("/contacts"), headers=headers or member.headers)


def context_ids(client, member) -> list[str]:
    response = client.get("/v1/me/context", headers=member.headers)
    assert response.status_code == 200
    return [a["id"] for a in response.json["accounts"]]


# --- create, list, show --------------------------------------------------------------------


def test_create_without_an_owner(app, cli):
    slug = unique("cli")
    created = json.loads(ok(cli("create", "--name", "CLI Co", "--slug", slug, "--plan", "pro")))
    assert created["slug"] == slug
    assert created["plan"] == "pro"
    assert created["status"] == "active"
    assert created["schema"] == schema_of(app, created["id"])
    assert created["schema_revision"] == tenant_head()
    assert schema_exists(app, created["schema"])
    with app.app_context():
        members = db.session.scalars(
            select(Membership).where(Membership.account_id == uuid.UUID(created["id"]))
        ).all()
    assert members == []


def test_create_with_an_owner_by_email(app, cli, client, account):
    name = unique("Owned")
    created = json.loads(ok(cli("create", "--name", name, "--owner-email", account.email.upper())))
    assert created["slug"] == name.lower()
    with app.app_context():
        role = db.session.scalar(
            select(Membership.role).where(
                Membership.account_id == uuid.UUID(created["id"]),
                Membership.user_id == uuid.UUID(account.user_id),
            )
        )
    assert role is Role.OWNER
    assert created["id"] in context_ids(client, account)


def test_create_with_an_unknown_owner_creates_nothing(app, cli):
    name = unique("Orphan")
    fails(cli("create", "--name", name, "--owner-email", "nobody@example.test"), "no user")
    with app.app_context():
        assert db.session.scalar(select(Account).where(Account.name == name)) is None


def test_create_with_a_taken_or_invalid_slug_is_a_clean_error(cli, account, app):
    with app.app_context():
        taken = db.session.get(Account, uuid.UUID(account.account_id)).slug
    fails(cli("create", "--name", "Clash", "--slug", taken), "taken")
    fails(cli("create", "--name", "Bad", "--slug", "Not A Slug"), "slug")


def test_list_filters_by_status_and_search(cli, signup):
    tag = uuid.uuid4().hex[:8]
    alpha = signup(f"Alpha {tag}")
    beta = signup(f"Beta {tag}")
    ok(cli("suspend", beta.account_id))

    def listed(*args: str) -> list[dict]:
        return [json.loads(line) for line in ok(cli("list", *args)).splitlines()]

    everything = listed()
    assert {alpha.account_id, beta.account_id} <= {a["id"] for a in everything}
    assert [a["id"] for a in listed("--search", tag)] == [alpha.account_id, beta.account_id]
    assert [a["id"] for a in listed("--search", f"ALPHA {tag}")] == [alpha.account_id]
    assert [a["id"] for a in listed("--search", tag, "--status", "suspended")] == [beta.account_id]
    assert [a["id"] for a in listed("--search", tag, "--status", "active")] == [alpha.account_id]
    assert listed("--search", tag, "--status", "deleted") == []
    # LIKE wildcards in the search are literal characters.
    assert listed("--search", f"%{tag}") == []
    assert all(a["status"] == "suspended" for a in listed("--status", "suspended"))


def test_list_rejects_an_unknown_status(cli):
    result = cli("list", "--status", "frozen")
    assert result.exit_code == 2
    assert "frozen" in result.output


def test_show_by_id_and_by_slug(cli, account):
    by_id = json.loads(ok(cli("show", account.account_id)))
    by_slug = json.loads(ok(cli("show", by_id["slug"])))
    assert by_id == by_slug
    assert by_id["id"] == account.account_id
    assert by_id["status"] == "active"
    fails(cli("show", "no-such-account"), "no account")
    fails(cli("show", str(uuid.uuid4())), "no account")


# --- suspend, resume, delete ---------------------------------------------------------------


def test_suspend_and_resume(cli, client, account, agent, other_account):
    assert contacts(client, agent).status_code == 200
    assert ok(cli("suspend", account.account_id)).strip().endswith(": suspended")
    for member in (account, agent):
        response = contacts(client, member)
        assert response.status_code == 403
        assert response.json["code"] == "account_suspended"
    # A non-member learns nothing: the same 404 as for an account that does not exist.
    outsider = contacts(client, account, headers=other_account.headers)
    nowhere = client.get(f"/v1/accounts/{uuid.uuid4()}/contacts", headers=other_account.headers)
    assert outsider.status_code == nowhere.status_code == 404
    assert outsider.json["code"] == nowhere.json["code"] == "account_not_found"
    assert outsider.json["message"] == nowhere.json["message"]
    # Suspended accounts stay in the member's context (they can see why they are locked out).
    assert account.account_id in context_ids(client, account)

    assert ok(cli("resume", account.account_id)).strip().endswith(": active")
    assert contacts(client, account).status_code == 200
    assert contacts(client, agent).status_code == 200


def test_delete_hides_the_account_and_resume_restores_it(app, cli, client, account, agent):
    schema = schema_of(app, account.account_id)
    ok(cli("delete", account.account_id))
    for member in (account, agent):
        response = contacts(client, member)
        assert response.status_code == 404
        assert response.json["code"] == "account_not_found"
        assert account.account_id not in context_ids(client, member)
    assert schema_exists(app, schema)

    ok(cli("resume", account.account_id))
    assert contacts(client, account).status_code == 200
    assert account.account_id in context_ids(client, agent)


@pytest.mark.parametrize(
    "steps,illegal,state",
    [
        ((), "resume", "active"),
        (("suspend",), "suspend", "suspended"),
        (("delete",), "delete", "deleted"),
        (("delete",), "suspend", "deleted"),
    ],
)
def test_illegal_transitions_are_clean_errors(cli, account, steps, illegal, state):
    for step in steps:
        ok(cli(step, account.account_id))
    fails(cli(illegal, account.account_id), f"is {state}")
    assert json.loads(ok(cli("show", account.account_id)))["status"] == state


def test_suspending_a_deleted_then_resumed_account_works(cli, account):
    ok(cli("delete", account.account_id))
    ok(cli("resume", account.account_id))
    ok(cli("suspend", account.account_id))
    ok(cli("delete", account.account_id))  # a suspended account may be deleted
    assert json.loads(ok(cli("show", account.account_id)))["status"] == "deleted"


def test_unknown_account_is_a_clean_error(cli):
    fails(cli("suspend", "no-such-slug"), "no account")


# --- purge ---------------------------------------------------------------------------------


def test_purge_needs_a_deleted_account_and_the_slug_repeated(app, cli, client, account, agent):
    slug = json.loads(ok(cli("show", account.account_id)))["slug"]
    schema = schema_of(app, account.account_id)

    fails(cli("purge", account.account_id, "--confirm", slug), "delete it first")
    assert schema_exists(app, schema)

    ok(cli("delete", account.account_id))
    fails(cli("purge", account.account_id, "--confirm", "wrong"), "did not match")
    fails(cli("purge", account.account_id, input="not-the-slug\n"), "did not match")
    fails(cli("purge", account.account_id, input="\n"), "did not match")
    assert schema_exists(app, schema)
    assert json.loads(ok(cli("show", slug)))["status"] == "deleted"

    assert ok(cli("purge", slug, input=f"{slug}\n")).strip().endswith(f"{slug}: purged")
    assert not schema_exists(app, schema)
    with app.app_context():
        assert db.session.get(Account, uuid.UUID(account.account_id)) is None
        assert (
            db.session.scalars(
                select(Membership).where(Membership.account_id == uuid.UUID(account.account_id))
            ).all()
            == []
        )
    fails(cli("show", slug), "no account")
    assert contacts(client, agent).status_code == 404
    assert context_ids(client, account) == []


def test_purge_with_confirm_option(app, cli, account):
    slug = json.loads(ok(cli("show", account.account_id)))["slug"]
    ok(cli("delete", slug))
    ok(cli("purge", slug, "--confirm", slug))
    assert not schema_exists(app, schema_of(app, account.account_id))


# --- the registry cache --------------------------------------------------------------------


def test_a_cli_suspension_reaches_another_app_at_once(make_app, cli, account):
    other = make_app(registry_ttl=3600)
    client = other.test_client()
    assert contacts(client, account).status_code == 200  # cached by the other app
    ok(cli("suspend", account.account_id))
    assert contacts(client, account).json["code"] == "account_suspended"
    ok(cli("delete", account.account_id))
    assert contacts(client, account).json["code"] == "account_not_found"
    ok(cli("resume", account.account_id))
    assert contacts(client, account).status_code == 200
