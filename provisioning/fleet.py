"""Bringing every tenant schema to the tenant head.

- "Is anything pending?" is one query over the registry (``accounts.schema_revision``),
  not one Alembic run per schema: with nothing to do, a fleet of thousands costs a few
  round trips (the run lock, the public schema's version, that query).
- Each tenant migrates in its own transaction; a failure rolls back that tenant alone,
  which stays intact at its previous revision and is retried by the next run. The
  registry row is updated in the same transaction, so it never claims a revision the
  schema does not have.
- Runs spread over forked processes (Alembic's ``op``/``context`` proxies are module
  globals, so threads would trample each other). The revision scripts are parsed once,
  before the fork; each worker takes tenants in chunks over one connection.
- A global advisory lock serialises whole runs; a per-tenant transaction-scoped lock
  keeps anything else that migrates one tenant out of the way; ``lock_timeout`` stops a
  tenant waiting forever behind a long-running query.
- The revision scripts run through Alembic's ``op`` and ``context``, but the version
  bookkeeping is ours. Alembic looks for each schema's ``alembic_version`` with a catalog
  join whose plan depends on the catalog statistics (right after provisioning 500 tenants
  it took 30 ms a lookup, twice per tenant); ``to_regclass`` is an index lookup. The
  setup, the stamp and the registry update take one round trip each.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import multiprocessing.util
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.operations import Operations
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import Connection, Engine, func, select, true, update
from sqlalchemy.exc import DBAPIError

from migrations import PUBLIC_TREE, TENANT_TREE, alembic_config, script_directory
from tenants.models import Account
from tenants.naming import validate_schema_name

log = logging.getLogger(__name__)

GLOBAL_LOCK = 0x7475_726D_6261  # "turmba"
UPGRADED, CURRENT, FAILED = "upgraded", "current", "failed"

_accounts = Account.__table__

#: One round trip opening each tenant's transaction: transaction-local settings (they
#: cannot leak into the pool; search_path lets op.execute() text and Alembic's unqualified
#: ALTER TABLE find the tenant's tables), the tenant's lock, and whether it has a version
#: table. Constant text, so the driver prepares it once per connection.
_SETUP = (
    "SELECT set_config('lock_timeout', %(lock_timeout)s, true), "
    "set_config('search_path', %(search_path)s, true), "
    "pg_try_advisory_xact_lock(%(key)s), to_regclass(%(versions)s) IS NOT NULL"
)


@dataclass(frozen=True)
class TenantOutcome:
    account_id: uuid.UUID
    schema: str
    outcome: str
    revision: str | None
    error: str | None = None


@dataclass
class FleetReport:
    head: str
    #: Accounts the registry already showed at head; none of them was touched.
    untouched: int = 0
    outcomes: list[TenantOutcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for item in self.outcomes if item.outcome == outcome)

    @property
    def failed(self) -> list[TenantOutcome]:
        return [item for item in self.outcomes if item.outcome == FAILED]


class FleetBusy(RuntimeError):
    """Another migration run held the global lock for longer than we were willing to wait."""


class TenantBusy(RuntimeError):
    """Something else holds this tenant's migration lock."""


def tenant_lock_key(schema: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(schema.encode(), digest_size=8).digest(), "big", signed=True
    )


def _version_heads(conn: Connection, schema: str) -> tuple[str, ...] | None:
    """The revisions stamped in ``schema``, or None when it has no version table."""
    table = f'"{schema}".alembic_version'
    if conn.scalar(select(func.to_regclass(table))) is None:
        return None
    return tuple(conn.exec_driver_sql(f"SELECT version_num FROM {table}").scalars())


def upgrade_public(engine: Engine) -> None:
    """Bring the public schema to its heads (a single query when it already is there).

    Several heads are allowed: features developed side by side branch from the same
    revision and are merged later; "heads" applies every branch.
    """
    heads = set(script_directory(PUBLIC_TREE).get_heads())
    with engine.begin() as conn:
        if set(_version_heads(conn, "public") or ()) == heads:
            return
        config = alembic_config(PUBLIC_TREE)
        config.attributes["connection"] = conn
        command.upgrade(config, "heads")


def pending_tenants(
    engine: Engine, head: str, only: Collection[uuid.UUID] | None = None
) -> tuple[list[tuple[uuid.UUID, str]], int]:
    """The accounts whose schema is not at ``head``, and how many accounts there are.

    One query, whatever the fleet size. ``only`` narrows both to the given account ids.
    """
    scope = [] if only is None else [_accounts.c.id.in_(list(only))]
    total = select(func.count().label("total")).select_from(_accounts).where(*scope).subquery()
    pending = (
        select(_accounts.c.id, _accounts.c.schema_name, _accounts.c.created_at)
        .where(_accounts.c.schema_revision.is_distinct_from(head), *scope)
        .subquery()
    )
    # The count joined to the pending rows (if any), so it comes back even when none are.
    query = (
        select(total.c.total, pending.c.id, pending.c.schema_name)
        .select_from(total.outerjoin(pending, true()))
        .order_by(pending.c.created_at)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [(row.id, row.schema_name) for row in rows if row.id is not None], rows[0].total


@cache
def _alembic_config(tree: Path) -> AlembicConfig:
    return alembic_config(tree)


def _describe(exc: Exception) -> str:
    """One line naming what went wrong, without SQLAlchemy's statement dump."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    message = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return f"{type(exc).__name__}: {message}"


class _Migrator:
    """Migrates tenants one after another over one connection, one transaction each.

    ``bind`` is an engine (a connection is opened on first use and kept) or a connection
    with no transaction open. Alembic's environment is set up once, not per tenant.
    """

    def __init__(self, bind: Engine | Connection, tree: Path, lock_timeout_ms: int) -> None:
        self.bind, self.tree, self.lock_timeout_ms = bind, tree, int(lock_timeout_ms)
        self.script = script_directory(tree)
        self.head = self.script.get_current_head()
        self.conn: Connection | None = None if isinstance(bind, Engine) else bind
        self.env: EnvironmentContext | None = None

    def __call__(self, account_id: uuid.UUID, schema: str) -> TenantOutcome:
        try:
            validate_schema_name(schema)
            outcome = self._upgrade(self._connection(), account_id, schema)
        except Exception as exc:  # one tenant's failure must not stop the fleet
            log.info("tenant %s failed to migrate: %s", schema, _describe(exc))
            return TenantOutcome(account_id, schema, FAILED, None, _describe(exc))
        return TenantOutcome(account_id, schema, outcome, self.head)

    def _connection(self) -> Connection:
        # A connection lost mid-tenant is invalidated and reconnects on its next use.
        if self.conn is None or self.conn.closed:
            assert isinstance(self.bind, Engine)
            self.conn, self.env = self.bind.connect(), None
        return self.conn

    def close(self) -> None:
        if self.conn is not None and self.conn is not self.bind:
            self.conn.close()
        self.conn = self.env = None

    def _upgrade(self, conn: Connection, account_id: uuid.UUID, schema: str) -> str:
        """Upgrade ``schema`` to head in one transaction; UPGRADED or CURRENT."""
        versions = f'"{schema}".alembic_version'
        with conn.begin():
            *_, locked, stamped = conn.exec_driver_sql(
                _SETUP,
                {
                    "lock_timeout": f"{self.lock_timeout_ms}ms",
                    "search_path": f'"{schema}", public',
                    "key": tenant_lock_key(schema),
                    "versions": versions,
                },
            ).one()
            if not locked:
                raise TenantBusy("another process is migrating this tenant")
            heads: tuple[str, ...] = ()
            if stamped:
                heads = tuple(conn.exec_driver_sql(f"SELECT version_num FROM {versions}").scalars())
            revisions = list(self.script.iterate_revisions(self.head, heads, implicit_base=True))
            if not revisions:
                conn.execute(
                    update(_accounts)
                    .where(
                        _accounts.c.id == account_id,
                        _accounts.c.schema_revision.is_distinct_from(self.head),
                    )
                    .values(schema_revision=self.head)
                )
                return CURRENT
            self._run_scripts(conn, schema, reversed(revisions), stamped)
            # The new stamp and the registry row in one statement (one round trip).
            conn.exec_driver_sql(
                f"WITH cleared AS (DELETE FROM {versions}), "
                f"stamped AS (INSERT INTO {versions} (version_num) VALUES (%(head)s)) "
                "UPDATE public.accounts SET schema_revision = %(head)s WHERE id = %(id)s",
                {"head": self.head, "id": account_id},
            )
        return UPGRADED

    def _run_scripts(
        self, conn: Connection, schema: str, revisions: Iterable, stamped: bool
    ) -> None:
        """Run the revisions' ``upgrade()`` with ``op`` and ``context`` aimed at ``schema``."""
        if not stamped:
            conn.exec_driver_sql(
                f'CREATE TABLE "{schema}".alembic_version (version_num VARCHAR(32) NOT NULL, '
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
            )
        if self.env is None:
            # Created inside a transaction, so Alembic leaves transactions to us.
            self.env = EnvironmentContext(_alembic_config(self.tree), self.script)
            self.env.configure(connection=conn)
        context = self.env.get_context()
        conn.execution_options(schema_translate_map={None: schema})
        try:
            with self.env, Operations.context(context):
                context.impl.start_migrations()
                for revision in revisions:
                    log.debug("%s: running %s", schema, revision)
                    revision.module.upgrade()
        finally:
            conn.execution_options(schema_translate_map=None)


def migrate_tenant(
    bind: Engine | Connection,
    account_id: uuid.UUID,
    schema: str,
    *,
    tree: Path = TENANT_TREE,
    lock_timeout_ms: int = 5000,
) -> TenantOutcome:
    """Upgrade one schema to head in one transaction, recording the result in the registry.

    ``bind`` is an engine, or a connection with no transaction open. Never raises: a
    failure is reported as a FAILED outcome and leaves the tenant as it was.
    """
    migrator = _Migrator(bind, tree, lock_timeout_ms)
    try:
        return migrator(account_id, schema)
    finally:
        migrator.close()


_worker: tuple[Engine, Path, int] | None = None


def _init_worker(engine: Engine, tree: Path, lock_timeout_ms: int) -> None:
    global _worker
    # Forked: the parent's pooled connections are not ours to use, nor to close.
    engine.dispose(close=False)
    _worker = (engine, tree, lock_timeout_ms)
    # Close this worker's own connections politely when it exits.
    multiprocessing.util.Finalize(None, engine.dispose, exitpriority=10)


def _migrate_chunk(chunk: list[tuple[uuid.UUID, str]]) -> list[TenantOutcome]:
    assert _worker is not None
    migrator = _Migrator(*_worker)
    try:
        return [migrator(account_id, schema) for account_id, schema in chunk]
    finally:
        migrator.close()


def _run(
    engine: Engine,
    todo: list[tuple[uuid.UUID, str]],
    *,
    tree: Path,
    processes: int,
    lock_timeout_ms: int,
) -> Iterator[TenantOutcome]:
    if processes <= 1 or len(todo) < 4 * processes:
        migrator = _Migrator(engine, tree, lock_timeout_ms)
        try:
            for account_id, schema in todo:
                yield migrator(account_id, schema)
        finally:
            migrator.close()
        return
    script_directory(tree).get_current_head()  # parsed once, inherited by the workers
    size = max(1, min(25, len(todo) // (processes * 4)))
    chunks = [todo[start : start + size] for start in range(0, len(todo), size)]
    with ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_init_worker,
        initargs=(engine, tree, lock_timeout_ms),
    ) as pool:
        futures = {pool.submit(_migrate_chunk, chunk): chunk for chunk in chunks}
        try:
            for future in as_completed(futures):
                try:
                    outcomes = future.result()
                except BrokenProcessPool as exc:  # a worker died: its tenants rolled back
                    outcomes = [
                        TenantOutcome(account_id, schema, FAILED, None, _describe(exc))
                        for account_id, schema in futures[future]
                    ]
                yield from outcomes
        finally:  # the caller gave up (or is done): start nothing more
            pool.shutdown(cancel_futures=True)


def migrate_fleet(
    engine: Engine,
    *,
    tree: Path = TENANT_TREE,
    processes: int = 2,
    lock_timeout_ms: int = 5000,
    wait_seconds: float = 600,
    only: Iterable[uuid.UUID] | None = None,
    progress: Callable[[int, TenantOutcome], None] | None = None,
    announce: Callable[[int], None] | None = None,
) -> FleetReport:
    """Migrate the public tree, then every tenant not yet at head. Safe to run concurrently.

    ``only`` restricts the tenant part to those account ids (default: every account).
    """
    head = script_directory(tree).get_current_head()
    report = FleetReport(head=head)
    scope = None if only is None else set(only)
    with engine.connect() as holder:
        deadline = time.monotonic() + wait_seconds
        while not holder.scalar(select(func.pg_try_advisory_lock(GLOBAL_LOCK))):
            if time.monotonic() > deadline:
                raise FleetBusy("another `flask tenants migrate` is still running")
            time.sleep(0.2)
        holder.commit()
        try:
            upgrade_public(engine)
            todo, total = pending_tenants(engine, head, scope)
            report.untouched = total - len(todo)
            if announce:
                announce(len(todo))
            results = _run(
                engine, todo, tree=tree, processes=processes, lock_timeout_ms=lock_timeout_ms
            )
            try:
                for index, outcome in enumerate(results, 1):
                    report.outcomes.append(outcome)
                    if progress:
                        progress(index, outcome)
            finally:  # stop the workers before the lock is released, whatever happened
                results.close()
        finally:
            holder.scalar(select(func.pg_advisory_unlock(GLOBAL_LOCK)))
            holder.commit()
    return report
