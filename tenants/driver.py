"""Core statements run straight on the database driver, for the hottest writes.

SQLAlchemy's execution path (a cache key walked over the statement, the schema
translation, parameter processing, an execution context) costs more CPU than PostgreSQL
spends on a small insert: posting a message took about a fifth less server CPU without
it (bench/messages.py). A statement run here is compiled once from the same Core
construct, and its tenant tables are qualified with the schema its tenant engine
translates to, so scoping still happens in one place (:mod:`tenants.scope`); only the
per-call path is shorter.

Statements must not use expanding parameters (``IN`` lists), which SQLAlchemy renders
per execution, nor leave a column to its Python-side default (``onupdate=utcnow``...),
which SQLAlchemy computes per execution: :func:`rendered` refuses the latter.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.sql import ClauseElement

#: The schema statements are compiled for, replaced by the tenant's in their SQL.
_PLACEHOLDER = "turumba_tenant_schema"
#: Marks a parameter the caller must give.
_REQUIRED = object()


@dataclass(frozen=True)
class Rendered:
    """A statement's SQL, its tenant tables in :data:`_PLACEHOLDER`, with PostgreSQL's
    own ``$n`` placeholders; and for each ``$n`` in turn: the name of its parameter, the
    value the statement carries itself (for parameters the caller does not give) and the
    conversion (JSON...) SQLAlchemy applies to it before the driver."""

    sql: str
    parameters: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]
    dialect: Dialect

    def sql_for(self, schema: str | None) -> str:
        """The SQL with tenant tables in ``schema`` (None: unqualified, as SQLAlchemy)."""
        qualifier = f"{self.dialect.identifier_preparer.quote_schema(schema)}." if schema else ""
        return self.sql.replace(f"{_PLACEHOLDER}.", qualifier)

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        """The driver's parameters; a ``KeyError`` names a parameter left out."""
        values = []
        for name, fixed, process in self.parameters:
            value = params[name] if fixed is _REQUIRED else params.get(name, fixed)
            values.append(process(value) if process else value)
        return values


@functools.cache
def _numbered(dialect: Dialect) -> Dialect:
    """``dialect`` rendering ``$1, $2...``: psycopg sends such SQL as it is, where its
    ``%(name)s`` form is parsed on every execution past a 128-statement cache (one
    statement per tenant schema overflows it)."""
    numbered = copy.copy(dialect)
    numbered.paramstyle, numbered.positional = "numeric_dollar", True
    return numbered


@functools.cache
def rendered(statement: ClauseElement, dialect: Dialect) -> Rendered:
    """``statement`` compiled once (statements are built once and kept): compiling one
    per tenant took ~10 ms of CPU at every tenant's first message in each process."""
    compiled = statement.compile(
        dialect=_numbered(dialect),
        schema_translate_map={None: _PLACEHOLDER},
        render_schema_translate=True,
    )
    defaulted = [*compiled.insert_prefetch, *compiled.update_prefetch]
    if defaulted:
        columns = ", ".join(sorted(column.name for column in defaulted))
        raise ValueError(f"give the statement these columns' values explicitly: {columns}")
    binds = {name: bind for bind, name in compiled.bind_names.items()}
    parameters = []
    for name in compiled.positiontup:
        bind = binds[name]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        parameters.append((name, _REQUIRED if bind.required else bind.effective_value, process))
    return Rendered(compiled.string, tuple(parameters), dialect)


def first_autocommitted(
    engine: Engine, statement: ClauseElement, params: Mapping[str, Any]
) -> tuple | None:
    """Run ``statement`` on ``engine`` (a tenant's, see :func:`tenants.scope.scoped_engine`)
    as a transaction of its own, with no BEGIN or COMMIT; its first row, if any.

    The connection comes from the engine's pool (its checkout checks run) and goes back
    with autocommit off; a connection the error left broken is discarded.
    """
    schema = engine.get_execution_options().get("schema_translate_map", {}).get(None)
    plan = rendered(statement, engine.dialect)
    sql, values = plan.sql_for(schema), plan.values(params)
    pooled = engine.raw_connection()
    driver: psycopg.Connection = pooled.driver_connection
    try:
        driver.autocommit = True
        return psycopg.RawCursor(driver).execute(sql, values).fetchone()
    except psycopg.Error as error:
        if driver.broken:
            pooled.invalidate(error)
        raise
    finally:
        if not driver.closed:
            driver.autocommit = False
        pooled.close()
