"""Work deferred to commit runs only after a real commit."""

from __future__ import annotations

import contextlib
import uuid

from audit.service import SYSTEM
from crm.service import ContactConflict, create_contact
from tenants.db import db
from tenants.hooks import after_commit
from tenants.scope import activated


def test_callbacks_run_after_commit_only(app):
    calls = []
    with app.app_context():
        after_commit(db.session, lambda: calls.append("first"))
        assert calls == []
        db.session.commit()
        assert calls == ["first"]
        db.session.commit()
        assert calls == ["first"]


def test_a_rollback_drops_them_even_before_any_query(app):
    calls = []
    with app.app_context():
        after_commit(db.session, lambda: calls.append("dropped"))
        db.session.rollback()
        db.session.commit()
    assert calls == []


def test_a_rolled_back_savepoint_keeps_the_outer_transactions_callbacks(app, account):
    calls = []
    with app.app_context():
        schema = app.extensions["turumba.registry"].get(uuid.UUID(account.account_id))
        who = {"account_id": schema.id, "actor": SYSTEM}
        with activated(schema.schema_name):
            create_contact(db.session, **who, name="One", email="one@example.com")
            after_commit(db.session, lambda: calls.append("kept"))
            with contextlib.suppress(ContactConflict):
                create_contact(db.session, **who, name="Two", email="one@example.com")
            db.session.commit()
    assert calls == ["kept"]
