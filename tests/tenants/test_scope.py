"""Tenant scoping: one translate map per session, no search_path leaks, no raw SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import ProgrammingError

from audit.service import SYSTEM
from crm.models import Contact
from crm.service import create_contact
from tenants.db import db
from tenants.scope import (
    NO_TENANT,
    TenantSwitchError,
    UnscopedSQLError,
    activated,
    current_schema,
)
from tenants.session import tenant_session

from .conftest import record


def names(session) -> list[str]:
    return session.scalars(select(Contact.name)).all()


def test_tenant_sessions_see_only_their_schema(two_tenants):
    ours, theirs = two_tenants
    with tenant_session(ours) as session:
        assert names(session) == ["Ours"]
    with tenant_session(theirs) as session:
        assert names(session) == ["Theirs"]


def test_a_pooled_connection_carries_no_tenant_to_its_next_user(make_app, account, other_account):
    """The same physical connection serves A, then nobody, then B, without mixing them."""
    app = make_app(db_pool_size=1)
    with app.app_context():
        ours, theirs = record(account), record(other_account)
        with tenant_session(ours) as session:
            create_contact(session, account_id=ours.id, actor=SYSTEM, name="Only ours")
            first_pid = session.scalar(select(func.pg_backend_pid()))
        with db.engine.connect() as conn:
            assert conn.scalar(select(func.pg_backend_pid())) == first_pid
            assert conn.scalar(select(func.current_setting("search_path"))) == '"$user", public'
        with pytest.raises(ProgrammingError, match=NO_TENANT):
            db.session.execute(select(Contact)).all()
        db.session.rollback()
        with tenant_session(theirs) as session:
            assert session.scalar(select(func.pg_backend_pid())) == first_pid
            assert "Only ours" not in names(session)


def test_raw_sql_is_refused_on_tenant_connections(two_tenants):
    ours, _ = two_tenants
    with tenant_session(ours) as session, pytest.raises(UnscopedSQLError):
        session.execute(text("SELECT count(*) FROM contacts"))
    with activated(ours.schema_name), pytest.raises(UnscopedSQLError):
        db.session.execute(text("SELECT name FROM contacts"))
    db.session.rollback()
    # Outside any tenant, plain SQL is fine: it cannot be mis-scoped.
    assert db.session.execute(text("SELECT 1")).scalar() == 1


def test_switching_tenant_inside_a_transaction_is_an_error(two_tenants):
    ours, theirs = two_tenants
    with activated(ours.schema_name):
        assert names(db.session) == ["Ours"]
        with activated(theirs.schema_name), pytest.raises(TenantSwitchError):
            names(db.session)
        db.session.commit()
    with activated(theirs.schema_name):
        assert names(db.session) == ["Theirs"]
    db.session.commit()


def test_tenant_session_restores_the_previous_tenant_and_rolls_back_on_error(two_tenants):
    ours, theirs = two_tenants
    with activated(ours.schema_name):
        with pytest.raises(RuntimeError, match="boom"), tenant_session(theirs) as session:
            assert current_schema() == theirs.schema_name
            create_contact(session, account_id=theirs.id, actor=SYSTEM, name="Never committed")
            raise RuntimeError("boom")
        assert current_schema() == ours.schema_name
    assert current_schema() is None
    with tenant_session(theirs) as session:
        assert names(session) == ["Theirs"]
