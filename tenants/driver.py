"""Core statements run straight on the database driver, for the hottest writes.

SQLAlchemy's execution path (a cache key walked over the statement, the schema
translation, parameter processing, an execution context) costs more CPU than PostgreSQL
spends on a small insert: posting a message took about a fifth less server CPU without
it (bench/messages.py). A statement run here is rendered once per schema from the same
Core construct, with the schema its tenant engine translates to, so scoping still
happens in one place (:mod:`tenants.scope`); only the per-call path is shorter.

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


@dataclass(frozen=True)
class Rendered:
    """A statement's SQL for one schema, with PostgreSQL's own ``$n`` placeholders, and
    for each ``$n`` in turn: the name of its parameter, the value the statement carries
    itself (for parameters the caller does not give) and the conversion (JSON...)
    SQLAlchemy applies to it before the driver."""

    sql: str
    parameters: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        return [
            process(value) if process else value
            for name, fixed, process in self.parameters
            for value in (params.get(name, fixed),)
        ]


@functools.cache
def _numbered(dialect: Dialect) -> Dialect:
    """``dialect`` rendering ``$1, $2...``: psycopg sends such SQL as it is, where its
    ``%(name)s`` form is parsed on every execution past a 128-statement cache (one
    statement per tenant schema overflows it)."""
    numbered = copy.copy(dialect)
    numbered.paramstyle, numbered.positional = "numeric_dollar", True
    return numbered


@functools.lru_cache(maxsize=8192)
def rendered(statement: ClauseElement, dialect: Dialect, schema: str | None) -> Rendered:
    """``statement`` compiled for ``schema``; cached (statements are built once and kept)."""
    compiled = statement.compile(
        dialect=_numbered(dialect),
        schema_translate_map={None: schema},
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
        parameters.append((name, None if bind.required else bind.effective_value, process))
    return Rendered(compiled.string, tuple(parameters))


def first_autocommitted(
    engine: Engine, statement: ClauseElement, params: Mapping[str, Any]
) -> tuple | None:
    """Run ``statement`` on ``engine`` (a tenant's, see :func:`tenants.scope.scoped_engine`)
    as a transaction of its own, with no BEGIN or COMMIT; its first row, if any.

    The connection comes from the engine's pool (its checkout checks run) and goes back
    with autocommit off; a connection the error left broken is discarded.
    """
    schema = engine.get_execution_options().get("schema_translate_map", {}).get(None)
    plan = rendered(statement, engine.dialect, schema)
    values = plan.values(params)
    pooled = engine.raw_connection()
    driver: psycopg.Connection = pooled.driver_connection
    try:
        driver.autocommit = True
        return psycopg.RawCursor(driver).execute(plan.sql, values).fetchone()
    except psycopg.Error as error:
        if driver.broken:
            pooled.invalidate(error)
        raise
    finally:
        if not driver.closed:
            driver.autocommit = False
        pooled.close()
