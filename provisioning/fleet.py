"""Bringing every tenant schema to the tenant head.

- "Is anything pending?" is one query over the registry (``accounts.schema_revision``),
  not one Alembic run per schema: with nothing to do, a fleet of thousands costs one
  round trip.
- Each tenant migrates in its own transaction; a failure rolls back that tenant alone,
  which stays intact at its previous revision and is retried by the next run.
- Runs spread over processes (Alembic's ``op``/``context`` proxies are module globals,
  so threads would trample each other). Each process parses the revision scripts once.
- A global advisory lock serialises whole runs; a per-tenant transaction-scoped lock
  keeps anything else that migrates one tenant out of the way; ``lock_timeout`` stops a
  tenant waiting forever behind a long-running query.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import Engine, create_engine, func, select, update

from migrations import PUBLIC_TREE, TENANT_TREE, alembic_config, script_directory
from tenants.models import Account
from tenants.naming import validate_schema_name

GLOBAL_LOCK = 0x7475_726D_6261  # "turmba"
UPGRADED, CURRENT, FAILED = "upgraded", "current", "failed"


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


def tenant_lock_key(schema: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(schema.encode(), digest_size=8).digest(), "big", signed=True
    )


def upgrade_public(engine: Engine) -> None:
    with engine.begin() as conn:
        config = alembic_config(PUBLIC_TREE)
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def pending_tenants(engine: Engine, head: str) -> tuple[list[tuple[uuid.UUID, str]], int]:
    """The accounts whose schema is not at ``head``, and how many accounts there are."""
    table = Account.__table__
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.c.id, table.c.schema_name)
            .where(table.c.schema_revision.is_distinct_from(head))
            .order_by(table.c.created_at)
        ).all()
        total = conn.scalar(select(func.count()).select_from(table))
    return [(row.id, row.schema_name) for row in rows], total


def migrate_tenant(
    engine: Engine, account_id: uuid.UUID, schema: str, *, tree: Path, lock_timeout_ms: int
) -> TenantOutcome:
    """Upgrade one schema to head in one transaction, recording the result in the registry."""
    script = script_directory(tree)
    head = script.get_current_head()
    validate_schema_name(schema)
    try:
        with engine.connect() as conn, conn.begin():
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
            if not conn.scalar(select(func.pg_try_advisory_xact_lock(tenant_lock_key(schema)))):
                raise RuntimeError("another process is migrating this tenant")
            # Transaction-local, so it cannot leak to the pool; lets op.execute() text work.
            conn.exec_driver_sql(f'SET LOCAL search_path TO "{schema}", public')
            conn.execution_options(schema_translate_map={None: schema})
            started_at: list[str | None] = []

            def upgrade(revision, context):
                started_at.append(context.get_current_revision())
                return script._upgrade_revs(head, revision)

            with EnvironmentContext(
                alembic_config(tree), script, fn=upgrade, destination_rev=head
            ) as env:
                env.configure(connection=conn, version_table_schema=schema)
                env.run_migrations()
            conn.execute(
                update(Account.__table__)
                .where(Account.__table__.c.id == account_id)
                .values(schema_revision=head)
            )
        outcome = CURRENT if started_at and started_at[0] == head else UPGRADED
        return TenantOutcome(account_id, schema, outcome, head)
    except Exception as exc:  # one tenant's failure must not stop the fleet
        return TenantOutcome(account_id, schema, FAILED, None, f"{type(exc).__name__}: {exc}")


_worker_engine: Engine | None = None


def _init_worker(url: str) -> None:
    global _worker_engine
    _worker_engine = create_engine(url, pool_size=1, max_overflow=0)


def _migrate_in_worker(account_id, schema, tree, lock_timeout_ms) -> TenantOutcome:
    assert _worker_engine is not None
    return migrate_tenant(
        _worker_engine, account_id, schema, tree=tree, lock_timeout_ms=lock_timeout_ms
    )


def _run(
    engine: Engine,
    todo: list[tuple[uuid.UUID, str]],
    *,
    tree: Path,
    processes: int,
    lock_timeout_ms: int,
) -> Iterable[TenantOutcome]:
    if processes <= 1 or len(todo) < 4 * processes:
        for account_id, schema in todo:
            yield migrate_tenant(
                engine, account_id, schema, tree=tree, lock_timeout_ms=lock_timeout_ms
            )
        return
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()  # no live sockets may be inherited by forked workers
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        processes, mp_context=context, initializer=_init_worker, initargs=(url,)
    ) as pool:
        futures = [
            pool.submit(_migrate_in_worker, account_id, schema, tree, lock_timeout_ms)
            for account_id, schema in todo
        ]
        for future in as_completed(futures):
            yield future.result()


def migrate_fleet(
    engine: Engine,
    *,
    tree: Path = TENANT_TREE,
    processes: int = 2,
    lock_timeout_ms: int = 5000,
    wait_seconds: float = 600,
    progress: Callable[[int, TenantOutcome], None] | None = None,
    announce: Callable[[int], None] | None = None,
) -> FleetReport:
    """Migrate the public tree, then every tenant not yet at head. Safe to run concurrently."""
    head = script_directory(tree).get_current_head()
    report = FleetReport(head=head)
    with engine.connect() as holder:
        deadline = time.monotonic() + wait_seconds
        while not holder.scalar(select(func.pg_try_advisory_lock(GLOBAL_LOCK))):
            if time.monotonic() > deadline:
                raise FleetBusy("another `flask tenants migrate` is still running")
            time.sleep(0.2)
        holder.commit()
        try:
            upgrade_public(engine)
            todo, total = pending_tenants(engine, head)
            report.untouched = total - len(todo)
            if announce:
                announce(len(todo))
            results = _run(
                engine, todo, tree=tree, processes=processes, lock_timeout_ms=lock_timeout_ms
            )
            for index, outcome in enumerate(results, 1):
                report.outcomes.append(outcome)
                if progress:
                    progress(index, outcome)
        finally:
            holder.scalar(select(func.pg_advisory_unlock(GLOBAL_LOCK)))
            holder.commit()
    return report
