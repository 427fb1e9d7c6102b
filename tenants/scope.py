"""The one place where tenant scoping happens.

Tenant models carry no schema. Every connection handed out for tenant work comes from
an engine whose ``schema_translate_map`` sends them to the active account's schema, so
a query cannot forget its tenant. We never ``SET search_path`` on a pooled connection:
it outlives the request and leaks into the next one on that connection.

``text()`` is not translated by SQLAlchemy, so raw SQL on a tenant connection is
refused outright (:class:`UnscopedSQLError`) rather than trusted to be qualified.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import TextClause

#: Tenant tables queried while no tenant is active land here, a schema that never
#: exists, so the mistake is an error instead of a read of somebody's data.
NO_TENANT = "turumba_no_tenant"
TENANT_OPTION = "turumba_tenant"

_current: ContextVar[str | None] = ContextVar("turumba_tenant_schema", default=None)
_scoped: weakref.WeakKeyDictionary[Engine, dict[str | None, Engine]] = weakref.WeakKeyDictionary()


class UnscopedSQLError(RuntimeError):
    """Raw SQL was sent through a tenant connection, where it would not be translated."""


class TenantSwitchError(RuntimeError):
    """The active tenant changed while a session still held the previous one's transaction."""


def current_schema() -> str | None:
    return _current.get()


def activate(schema: str | None) -> Token:
    """Make ``schema`` the active tenant until :func:`deactivate` is given the token."""
    return _current.set(schema)


def deactivate(token: Token) -> None:
    _current.reset(token)


@contextmanager
def activated(schema: str | None) -> Iterator[None]:
    """Make ``schema`` the active tenant, restoring the previous one afterwards."""
    token = activate(schema)
    try:
        yield
    finally:
        deactivate(token)


def scoped_engine(engine: Engine, schema: str | None) -> Engine:
    """``engine`` with tenant tables translated to ``schema``; cached per schema."""
    per_engine = _scoped.setdefault(engine, {})
    bound = per_engine.get(schema)
    if bound is None:
        bound = engine.execution_options(
            schema_translate_map={None: schema or NO_TENANT}, **{TENANT_OPTION: schema}
        )
        per_engine[schema] = bound
    return bound


class TenantScopedSession(FlaskSession):
    """``db.session``: binds every transaction to the tenant active when it began."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kw: Any):
        engine = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kw)
        if isinstance(engine, Connection):
            return engine
        schema = _current.get()
        pinned = self.info.get(TENANT_OPTION, schema)
        if pinned != schema:
            raise TenantSwitchError(
                f"session is in a transaction for {pinned!r}; commit or close it before "
                f"switching to {schema!r}"
            )
        return scoped_engine(engine, schema)


@event.listens_for(TenantScopedSession, "after_begin")
def _pin_tenant(session, transaction, connection: Connection) -> None:
    session.info[TENANT_OPTION] = connection.get_execution_options().get(TENANT_OPTION)


@event.listens_for(TenantScopedSession, "after_transaction_end")
def _unpin_tenant(session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(TENANT_OPTION, None)


def refuse_raw_sql_on_tenant_connections(engine: Engine) -> None:
    """Install the ``text()`` guard on ``engine`` (and every scoped copy of it)."""
    if event.contains(engine, "before_execute", _refuse_text):
        return
    event.listen(engine, "before_execute", _refuse_text)


def _refuse_text(conn: Connection, clauseelement, multiparams, params, execution_options):
    if isinstance(clauseelement, TextClause) and conn.get_execution_options().get(TENANT_OPTION):
        raise UnscopedSQLError(
            "text() SQL is not schema-translated; use Core or ORM constructs on tenant connections"
        )
