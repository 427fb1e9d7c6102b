"""The public migrations build exactly what the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

import events.outbox
import events.timers  # noqa: F401
import identity.models  # noqa: F401
import tenants.models  # noqa: F401
from tenants.db import PublicBase, db


def unqualified(metadata: MetaData) -> MetaData:
    """The public tables as Alembic reflects the default schema: with no schema name."""
    copy = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(copy, schema=None)
    return copy


def test_public_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = [
            diff
            for diff in compare_metadata(context, unqualified(PublicBase.metadata))
            if not (diff[0] == "remove_table" and diff[1].name == "alembic_version")
        ]
    assert differences == []
