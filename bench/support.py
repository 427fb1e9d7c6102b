"""What every benchmark needs: a throw-away database, an app on it, a signing key.

Environment: ``TURUMBA_BENCH_DATABASE_URL`` (a maintenance database to create the bench
database in) and ``TURUMBA_BENCH_REDIS_URL``; both default to the test servers'
variables, then to the machine's local PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from core.config import Config  # noqa: E402
from core.keys import generate_signing_key  # noqa: E402
from provisioning.fleet import upgrade_public  # noqa: E402
from tenants.db import db  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"


def _env(*names: str, default: str) -> str:
    return next((os.environ[name] for name in names if os.environ.get(name)), default)


@contextmanager
def bench_app(**overrides) -> Iterator:
    """An app (inside its context) on a fresh, migrated database that is dropped afterwards."""
    maintenance = make_url(
        _env(
            "TURUMBA_BENCH_DATABASE_URL", "TURUMBA_TEST_DATABASE_URL", default=DEFAULT_DATABASE_URL
        )
    )
    admin_url = maintenance.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"turumba_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        config = Config.from_env(
            {},
            database_url=maintenance.set(database=name).render_as_string(hide_password=False),
            redis_url=_env(
                "TURUMBA_BENCH_REDIS_URL", "TURUMBA_TEST_REDIS_URL", default=DEFAULT_REDIS_URL
            ),
            jwt_private_key=generate_signing_key(),
            log_level="WARNING",
            **overrides,
        )
        app = create_app(config)
        with app.app_context():
            upgrade_public(db.engine)
            try:
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
