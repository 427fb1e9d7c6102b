"""The public migrations build exactly what the models declare."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, text

import events.outbox
import events.timers  # noqa: F401
import identity.models  # noqa: F401
import tenants.models  # noqa: F401
from migrations import PUBLIC_TREE, alembic_config
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


def test_the_outbox_notification_revision_goes_down_and_up(app):
    """In one transaction, rolled back: the database the other tests use stays at head."""
    objects = text(
        "SELECT (SELECT count(*) FROM pg_trigger WHERE tgname = 'outbox_events_notify' "
        "AND tgrelid = 'public.outbox_events'::regclass), "
        "(SELECT count(*) FROM pg_proc WHERE proname = 'outbox_events_notify' "
        "AND pronamespace = 'public'::regnamespace)"
    )
    with app.app_context(), db.engine.connect() as conn:
        transaction = conn.begin()
        try:
            config = alembic_config(PUBLIC_TREE)
            config.attributes["connection"] = conn
            assert tuple(conn.execute(objects).one()) == (1, 1)
            command.downgrade(config, "0010")
            assert tuple(conn.execute(objects).one()) == (0, 0)
            assert conn.scalars(text("SELECT version_num FROM alembic_version")).all() == ["0010"]
            command.upgrade(config, "heads")
            assert tuple(conn.execute(objects).one()) == (1, 1)
        finally:
            transaction.rollback()
