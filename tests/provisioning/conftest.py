"""Fixtures for the provisioning tests. Fleet fixtures are prefixed ``fleet_``."""

from __future__ import annotations

import itertools
import shutil
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from migrations import TENANT_TREE, tenant_head
from provisioning.accounts import create_account
from tenants.db import db
from tenants.models import Account, AccountStatus
from tenants.naming import schema_for, validate_schema_name

_REVISION = '''"""{revision} (test revision)

Revision ID: {revision}
Revises: {down}
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
{body}


def downgrade() -> None:
    raise NotImplementedError
'''


@pytest.fixture
def fleet_tree(tmp_path):
    """Build a copy of the tenant migration tree with extra revisions on top of its head.

    ``make(("rev_id", "python body of upgrade()"), ...)`` chains the revisions in order
    and returns the tree's path. Each call gets its own directory: parsed trees are
    cached per path.
    """
    numbers = itertools.count()

    def make(*revisions: tuple[str, str]) -> Path:
        tree = tmp_path / f"tenant-tree-{next(numbers)}"
        (tree / "versions").mkdir(parents=True)
        for name in ("env.py", "script.py.mako"):
            shutil.copy(TENANT_TREE / name, tree / name)
        for path in (TENANT_TREE / "versions").glob("*.py"):
            shutil.copy(path, tree / "versions" / path.name)
        down = tenant_head()
        for number, (revision, body) in enumerate(revisions, 9000):
            body = textwrap.indent(textwrap.dedent(body).strip(), "    ")
            source = _REVISION.format(revision=revision, down=down, body=body)
            (tree / "versions" / f"{number}_{revision}.py").write_text(source)
            down = revision
        return tree

    return make


@dataclass(frozen=True)
class FleetTenant:
    id: uuid.UUID
    slug: str
    schema: str


def _drop_tenants(app, tenants: list[FleetTenant]) -> None:
    if not tenants:
        return
    with app.app_context(), db.engine.begin() as conn:
        for tenant in tenants:
            conn.exec_driver_sql(
                f'DROP SCHEMA IF EXISTS "{validate_schema_name(tenant.schema)}" CASCADE'
            )
        conn.execute(Account.__table__.delete().where(Account.id.in_([t.id for t in tenants])))


@pytest.fixture
def fleet_tenants(app):
    """Provision ``count`` accounts through the real path; dropped again after the test.

    Dropping matters: a tenant left at a test tree's head would fail every later
    `flask tenants migrate` run on the real tree (its revision is unknown there).
    """
    made: list[FleetTenant] = []

    def make(count: int, prefix: str = "Fleet") -> list[FleetTenant]:
        tag = uuid.uuid4().hex[:6]
        with app.app_context():
            accounts = [
                create_account(db.session, name=f"{prefix} {tag} {index}") for index in range(count)
            ]
            db.session.commit()
            tenants = [FleetTenant(a.id, a.slug, a.schema_name) for a in accounts]
        made.extend(tenants)
        return tenants

    yield make
    _drop_tenants(app, made)


@pytest.fixture
def fleet_empty_tenant(app):
    """A registry row whose schema exists but is empty: nothing stamped, no tables."""
    made: list[FleetTenant] = []

    def make() -> FleetTenant:
        account_id = uuid.uuid4()
        tenant = FleetTenant(account_id, f"empty-{account_id.hex[:12]}", schema_for(account_id))
        with app.app_context():
            db.session.add(
                Account(
                    id=account_id,
                    name="Empty",
                    slug=tenant.slug,
                    schema_name=tenant.schema,
                    status=AccountStatus.ACTIVE,
                    plan="free",
                    schema_revision=None,
                )
            )
            db.session.flush()
            db.session.connection().exec_driver_sql(f'CREATE SCHEMA "{tenant.schema}"')
            db.session.commit()
        made.append(tenant)
        return tenant

    yield make
    _drop_tenants(app, made)


@pytest.fixture
def fleet_log(app):
    """A public table revisions can write to (one row per run of a revision), and a reader."""
    table = f"fleet_log_{uuid.uuid4().hex[:10]}"
    with app.app_context(), db.engine.begin() as conn:
        conn.exec_driver_sql(
            f"CREATE TABLE public.{table} (schema text NOT NULL, pid integer NOT NULL, "
            "backend integer NOT NULL DEFAULT pg_backend_pid())"
        )

    yield table
    with app.app_context(), db.engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS public.{table}")
