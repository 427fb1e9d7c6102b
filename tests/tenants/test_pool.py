"""Pooled connections: one that died while idle is replaced before a request uses it."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tenants.db import ping_when_idle
from tenants.driver import first_autocommitted


@pytest.fixture
def pooled(database_url):
    """An engine with a single pooled connection, and a way to kill its backend."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    admin_url = make_url(database_url).set(drivername="postgresql")

    def kill(pid: int) -> None:
        dsn = admin_url.render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    yield engine, kill
    engine.dispose()


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.pg_backend_pid()))


def test_a_connection_killed_while_idle_is_replaced_unseen(pooled):
    engine, kill = pooled
    ping_when_idle(engine, after=0.0)
    first = backend_pid(engine)
    kill(first)
    second = backend_pid(engine)  # no error: the ping found it dead, the pool replaced it
    assert second != first
    assert backend_pid(engine) == second  # the replacement is pooled and reused


def test_a_connection_used_a_moment_ago_is_trusted_without_a_round_trip(pooled):
    engine, kill = pooled
    ping_when_idle(engine, after=3600.0)
    kill(backend_pid(engine))
    with pytest.raises(OperationalError):  # not pinged, so the statement meets the dead link
        backend_pid(engine)
    assert backend_pid(engine) > 0  # and the pool recovers on the next checkout


def test_a_pinged_connection_is_handed_out_with_no_transaction_open(pooled):
    """So it can still be switched to autocommit, as a plain message's post does."""
    engine, _ = pooled
    ping_when_idle(engine, after=0.0)
    backend_pid(engine)
    (pid,) = first_autocommitted(engine, select(func.pg_backend_pid()), {})  # pinged first
    assert pid > 0
