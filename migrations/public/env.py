"""Alembic environment for the public schema.

``flask tenants migrate`` passes its connection in ``config.attributes``; the ``alembic``
command line falls back to ``TURUMBA_DATABASE_URL``.
"""

from alembic import context
from sqlalchemy import create_engine

# Every module declaring public tables, so autogenerate sees them all.
import identity.api_tokens
import identity.mfa
import identity.models
import identity.onetime
import identity.sessions  # noqa: F401
import provisioning.spares  # noqa: F401
from core.config import Config
from tenants.db import PublicBase
from tenants.models import Account  # noqa: F401

config = context.config


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=PublicBase.metadata,
        version_table_schema="public",
        include_schemas=False,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = create_engine(Config.from_env().sqlalchemy_url)
    with engine.connect() as conn:
        run(conn)
