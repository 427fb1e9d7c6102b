"""Statements run straight on the driver (the message post's path): they write in their
tenant's schema only, each commits on its own, and the pooled connection goes back as it
came, or is discarded when the statement broke it."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import String, bindparam, func, insert, select, update

from audit.service import SYSTEM
from crm.models import Contact
from events import names
from events.outbox import OutboxEvent, event_values
from tenants.db import db
from tenants.driver import first_autocommitted
from tenants.scope import activated
from tenants.session import tenant_session

#: A contact renamed by name, with a value the statement carries itself (the "!"), and
#: ``updated_at`` given, not left to its Python-side default.
RENAME = (
    update(Contact)
    .where(Contact.name == bindparam("old"))
    .values(name=func.concat(bindparam("new", type_=String), "!"), updated_at=func.now())
    .returning(Contact.name)
)


def engine_of(schema: str):
    with activated(schema):
        return db.session.get_bind()


def contact_names(account) -> list[str]:
    with tenant_session(account) as session:
        return sorted(session.scalars(select(Contact.name)))


def test_a_statement_writes_in_its_tenants_schema_and_commits(two_tenants):
    ours, theirs = two_tenants
    row = first_autocommitted(engine_of(ours.schema_name), RENAME, {"old": "Ours", "new": "Mine"})
    assert tuple(row) == ("Mine!",)
    assert contact_names(ours) == ["Mine!"]  # committed: another session sees it
    # The other tenant's engine: their schema only, where no "Ours" exists.
    theirs_engine = engine_of(theirs.schema_name)
    assert first_autocommitted(theirs_engine, RENAME, {"old": "Ours", "new": "Stolen"}) is None
    assert first_autocommitted(theirs_engine, RENAME, {"old": "Mine!", "new": "Stolen"}) is None
    assert contact_names(theirs) == ["Theirs"]
    assert contact_names(ours) == ["Mine!"]


def test_parameters_are_converted_as_sqlalchemy_would(app, two_tenants):
    """A dict for a JSONB column goes in as JSON, and comes back as the same dict."""
    ours, _ = two_tenants
    values = event_values(
        account_id=ours.id,
        name=names.CONTACT_CREATED,
        actor=SYSTEM,
        subject_type="contact",
        payload={"nested": {"list": [1, "two", None]}, "flag": True},
    )
    statement = (
        insert(OutboxEvent)
        .values({name: bindparam(name) for name in values})
        .returning(OutboxEvent.payload)
    )
    (payload,) = first_autocommitted(engine_of(ours.schema_name), statement, values)
    assert payload == {"nested": {"list": [1, "two", None]}, "flag": True}
    with app.app_context():
        stored = db.session.get(OutboxEvent, values["id"])
        assert stored.payload == payload


def test_the_connection_goes_back_to_the_pool_out_of_autocommit(make_app):
    app = make_app(db_pool_size=1)
    with app.app_context():
        engine = db.engine
        with pytest.raises(psycopg.errors.DivisionByZero):
            first_autocommitted(engine, select(func.div(1, bindparam("zero"))), {"zero": 0})
        (pid,) = first_autocommitted(engine, select(func.pg_backend_pid()), {})
        with engine.connect() as conn:  # the same connection, usable, out of autocommit
            assert conn.scalar(select(func.pg_backend_pid())) == pid
            assert conn.connection.dbapi_connection.autocommit is False


def test_a_connection_the_statement_broke_is_discarded(make_app):
    app = make_app(db_pool_size=1)
    with app.app_context():
        engine = db.engine
        (pid,) = first_autocommitted(engine, select(func.pg_backend_pid()), {})
        suicide = select(func.pg_terminate_backend(func.pg_backend_pid()))
        with pytest.raises(psycopg.OperationalError):
            first_autocommitted(engine, suicide, {})
        (replacement,) = first_autocommitted(engine, select(func.pg_backend_pid()), {})
        assert replacement != pid


def test_a_column_left_to_its_python_default_is_refused(two_tenants):
    """SQLAlchemy computes those per execution; the driver path would write NULL."""
    ours, _ = two_tenants
    forgetful = update(Contact).values(name=bindparam("new", type_=String))
    with pytest.raises(ValueError, match="updated_at"):
        first_autocommitted(engine_of(ours.schema_name), forgetful, {"new": "Lost"})
    assert contact_names(ours) == ["Ours"]


def test_a_parameter_left_out_is_an_error_not_a_null(two_tenants):
    ours, _ = two_tenants
    with pytest.raises(KeyError, match="new"):
        first_autocommitted(engine_of(ours.schema_name), RENAME, {"old": "Ours"})
    assert contact_names(ours) == ["Ours"]
