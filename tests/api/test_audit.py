"""The audit log: per account, readable with audit:read only, filterable, append-only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from audit.models import AuditEntry
from audit.service import SYSTEM, Actor, changes, record
from migrations import TENANT_TREE
from provisioning.ddl import tenant_schema_script
from provisioning.fleet import UPGRADED, migrate_tenant
from tenants.db import db
from tenants.registry import registry
from tenants.session import tenant_session


def write(app, member, *entries: dict) -> None:
    """Record entries in ``member``'s account through the service, as a job would."""
    with (
        app.app_context(),
        tenant_session(registry().get(uuid.UUID(member.account_id))) as session,
    ):
        for entry in entries:
            record(session, **{"actor": SYSTEM, "target_type": "thing", **entry})


def schema_of(member) -> str:
    return f"t_{uuid.UUID(member.account_id).hex}"


def listing(client, member, *filters, **params):
    response = client.get(
        member.url("/audit-log"), headers=member.headers, query_string={"filter": filters, **params}
    )
    assert response.status_code == 200, response.json
    return response.json


def test_each_account_sees_only_its_own_entries(app, client, account, other_account):
    actor = Actor("user", uuid.UUID(account.user_id), "10.0.0.1", "pytest", "req-1")
    write(app, account, {"actor": actor, "action": "thing.made", "target_id": "a1"})
    write(app, other_account, {"action": "thing.made", "target_id": "b1"})

    mine = listing(client, account)
    assert [item["target_id"] for item in mine["items"]] == ["a1"]
    (item,) = mine["items"]
    assert item["actor_type"] == "user"
    assert item["actor_id"] == account.user_id
    assert item["actor_ip"] == "10.0.0.1"
    assert item["request_id"] == "req-1"
    theirs = listing(client, other_account)
    assert [item["target_id"] for item in theirs["items"]] == ["b1"]

    # Neither can read (or learn of) the other's log.
    response = client.get(other_account.url("/audit-log"), headers=account.headers)
    assert response.status_code == 404
    assert response.json["code"] == "account_not_found"


def test_reading_the_log_needs_audit_read(app, client, account, agent, add_member):
    write(app, account, {"action": "thing.made"})
    response = client.get(account.url("/audit-log"), headers=agent.headers)
    assert response.status_code == 403
    assert response.json["errors"] == {"permission": ["audit:read"]}
    admin = add_member(account.account_id, "admin")
    assert client.get(admin.url("/audit-log"), headers=admin.headers).status_code == 200


def test_filters_and_newest_first(app, client, account):
    user_id = uuid.uuid4()
    write(
        app,
        account,
        {"action": "contact.created", "target_type": "contact", "target_id": "c1"},
        {
            "actor": Actor("user", user_id),
            "action": "settings.updated",
            "target_type": "account",
            "target_id": account.account_id,
            "before": {"timezone": "UTC"},
            "after": {"timezone": "Africa/Addis_Ababa"},
        },
    )
    everything = listing(client, account)["items"]
    assert [i["action"] for i in everything] == ["settings.updated", "contact.created"]
    assert everything[0]["before"] == {"timezone": "UTC"}
    assert everything[0]["after"] == {"timezone": "Africa/Addis_Ababa"}

    def actions(*filters):
        return [i["action"] for i in listing(client, account, *filters)["items"]]

    assert actions("action:eq:contact.created") == ["contact.created"]
    assert actions(f"actor_id:eq:{user_id}") == ["settings.updated"]
    assert actions("actor_type:eq:system") == ["contact.created"]
    assert actions("target_type:eq:contact", "target_id:eq:c1") == ["contact.created"]
    assert actions("target_id:eq:nope") == []
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert len(actions(f"occurred_at:gte:{past}", f"occurred_at:lt:{future}")) == 2
    assert actions(f"occurred_at:gte:{future}") == []
    oldest = listing(client, account, sort="occurred_at")["items"]
    assert [i["action"] for i in oldest] == ["contact.created", "settings.updated"]

    response = client.get(
        account.url("/audit-log"), headers=account.headers, query_string={"filter": "before:eq:x"}
    )
    assert response.status_code == 400
    assert response.json["code"] == "invalid_filter"


def _tamper(app, schema: str, statement: str) -> None:
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text(statement.format(table=f'"{schema}".audit_log')))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {table} SET action = 'nothing.happened'",
        "DELETE FROM {table}",
        "TRUNCATE {table}",
    ],
)
def test_the_database_refuses_to_change_or_remove_entries(app, client, account, statement):
    write(app, account, {"action": "thing.made", "target_id": "kept"})
    with pytest.raises(DBAPIError, match="append-only"):
        _tamper(app, schema_of(account), statement)
    assert [i["target_id"] for i in listing(client, account)["items"]] == ["kept"]


def test_a_migrated_schema_is_append_only_too(app):
    """The trigger comes with the migration chain as well as with the rendered script."""
    rendered, migrated = f"t_{uuid.uuid4().hex}", f"t_{uuid.uuid4().hex}"
    insert = (
        "INSERT INTO {table} (id, occurred_at, actor_type, action, target_type) "
        f"VALUES ('{uuid.uuid4()}', now(), 'system', 'x.y', 'thing')"
    )
    try:
        with app.app_context(), db.engine.begin() as conn:
            conn.exec_driver_sql(tenant_schema_script(rendered))
            conn.exec_driver_sql(f'CREATE SCHEMA "{migrated}"')
        with app.app_context():
            outcome = migrate_tenant(
                db.engine, uuid.uuid4(), migrated, tree=TENANT_TREE, lock_timeout_ms=5000
            )
        assert outcome.outcome == UPGRADED, outcome.error
        for schema in (rendered, migrated):
            _tamper(app, schema, insert)
            for statement in ("UPDATE {table} SET action = 'z'", "DELETE FROM {table}"):
                with pytest.raises(DBAPIError, match="append-only"):
                    _tamper(app, schema, statement)
    finally:
        with app.app_context(), db.engine.begin() as conn:
            for schema in (rendered, migrated):
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_the_service_keeps_values_plain_and_refuses_unknown_actors(app, account):
    with pytest.raises(ValueError):
        Actor("robot")
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with (
        app.app_context(),
        tenant_session(registry().get(uuid.UUID(account.account_id))) as session,
    ):
        entry = record(
            session,
            actor=SYSTEM,
            action="thing.dated",
            target_type="thing",
            target_id=uuid.UUID(int=7),
            after={"when": moment},
        )
        session.flush()
        stored = session.get(AuditEntry, entry.id)
        assert stored.after == {"when": "2026-01-02 03:04:05+00:00"}
        assert stored.target_id == str(uuid.UUID(int=7))
    assert changes({"a": 1, "b": 2}, {"a": 1, "b": 3}) == ({"b": 2}, {"b": 3})
