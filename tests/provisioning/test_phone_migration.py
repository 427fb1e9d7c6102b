"""Revision t0015 rewrites the phones contacts were stored with before E.164 into E.164,
reading national numbers with the account's locale, and leaves alone what it cannot read
or what would clash."""

from __future__ import annotations

import shutil
import uuid

from sqlalchemy import text

from migrations import TENANT_TREE
from provisioning.fleet import UPGRADED, migrate_tenant
from tenants.db import db


def test_stored_phones_become_e164_unless_unreadable_or_taken(app, tmp_path):
    before = tmp_path / "tenant"  # the tree as it was, up to t0014
    shutil.copytree(TENANT_TREE, before)
    for later in (before / "versions").glob("00*.py"):
        if int(later.name[:4]) >= 15:
            later.unlink()
    schema = f"t_{uuid.uuid4().hex}"
    stored = {
        "national": "4155550123",  # typed without a country: read as the locale's (US)
        "international": "+442079460958",
        "with_zero": "+44(0)2079460959",
        "nonsense": "12",
        "clash": "+1(415)5550188",  # its E.164 form is taken by the next one
        "taken": "+14155550188",
    }
    try:
        with app.app_context():
            with db.engine.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            first = migrate_tenant(db.engine, uuid.uuid4(), schema, tree=before)
            assert first.outcome == UPGRADED, first.error
            with db.engine.begin() as conn:
                conn.exec_driver_sql(
                    f'INSERT INTO "{schema}".account_settings (id, timezone, locale, created_at, '
                    "updated_at) VALUES (1, 'UTC', 'en-US', now(), now())"
                )
                for name, phone in stored.items():
                    conn.execute(
                        text(
                            f'INSERT INTO "{schema}".contacts (id, name, phone, created_at, '
                            "updated_at) VALUES (:id, :name, :phone, now(), now())"
                        ),
                        {"id": uuid.uuid4(), "name": name, "phone": phone},
                    )
            second = migrate_tenant(db.engine, uuid.uuid4(), schema, tree=TENANT_TREE)
            assert second.outcome == UPGRADED, second.error
            with db.engine.connect() as conn:
                phones = {
                    name: phone
                    for name, phone in conn.execute(
                        text(f'SELECT name, phone FROM "{schema}".contacts')
                    )
                }
        assert phones == {
            "national": "+14155550123",
            "international": "+442079460958",
            "with_zero": "+442079460959",
            "nonsense": "12",
            "clash": "+1(415)5550188",
            "taken": "+14155550188",
        }
    finally:
        with app.app_context(), db.engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
