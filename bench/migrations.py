"""Fleet migration benchmark: ``python bench/migrations.py [--tenants N]``.

Creates its own database (dropped at the end), provisions N tenants through the
rendered-once tenant script (many per transaction: setup, not measured), then times on
the app's own engine:

- ``nothing pending``: ``migrate_fleet`` when every tenant is already at head;
- ``migrate``: one DDL revision (add a column and an index to ``contacts``) over all N
  tenants through ``migrate_fleet``, with ``--processes`` workers and in-process;
- ``baseline``: the same two DDL statements sent per schema over one connection, one
  transaction per tenant, no Alembic and no bookkeeping (version stamp, registry).

Targets: nothing pending <= 1 s, migrate <= 5 s for 1000 tenants. Each figure is the
median of ``--repeats`` runs; between runs the column is dropped again outside the clock.
Every run shares the machine with whatever else runs on it: compare against the
baseline of the same run rather than across runs.

Environment: see :mod:`support`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from support import bench_app, provision

from migrations import TENANT_TREE, tenant_head
from provisioning.fleet import migrate_fleet
from tenants.db import db

NEW_REVISION = "tb_source"

REVISION_SOURCE = '''"""contacts.source (benchmark revision)

Revision ID: {revision}
Revises: {down}
"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("source", sa.String(40), nullable=True))
    op.create_index("ix_contacts_source", "contacts", ["source"])


def downgrade() -> None:
    op.drop_index("ix_contacts_source", table_name="contacts")
    op.drop_column("contacts", "source")
'''

RAW_DDL = (
    'ALTER TABLE "{schema}".contacts ADD COLUMN source VARCHAR(40); '
    'CREATE INDEX ix_contacts_source ON "{schema}".contacts (source)'
)
UNDO = 'ALTER TABLE "{schema}".contacts DROP COLUMN source'


def build_tree(directory: Path) -> Path:
    """A copy of the tenant tree with one more revision on top of the current head."""
    tree = directory / "tenant"
    (tree / "versions").mkdir(parents=True)
    shutil.copy(TENANT_TREE / "env.py", tree / "env.py")
    shutil.copy(TENANT_TREE / "script.py.mako", tree / "script.py.mako")
    for path in (TENANT_TREE / "versions").glob("*.py"):
        shutil.copy(path, tree / "versions" / path.name)
    source = REVISION_SOURCE.format(revision=NEW_REVISION, down=tenant_head())
    (tree / "versions" / "9999_bench_source.py").write_text(source)
    return tree


def reset(engine, schemas: list[str], revision: str, batch: int = 50) -> None:
    """Undo the benchmark revision everywhere (outside the clock)."""
    for start in range(0, len(schemas), batch):
        chunk = schemas[start : start + batch]
        statements = []
        for schema in chunk:
            statements.append(UNDO.format(schema=schema))
            statements.append(f"UPDATE \"{schema}\".alembic_version SET version_num = '{revision}'")
        with engine.begin() as conn:
            conn.exec_driver_sql(";\n".join(statements))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE public.accounts SET schema_revision = '{revision}'")
    # Each run leaves dead catalog rows behind; clear them so later runs are not slower.
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "VACUUM ANALYZE pg_catalog.pg_class, pg_catalog.pg_attribute, pg_catalog.pg_index, "
            "pg_catalog.pg_depend, pg_catalog.pg_type, public.accounts"
        )


def baseline(engine, schemas: list[str]) -> float:
    with engine.connect() as conn:
        started = time.perf_counter()
        for schema in schemas:
            with conn.begin():
                conn.exec_driver_sql(RAW_DDL.format(schema=schema))
        return time.perf_counter() - started


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="turumba-bench-"))
    try:
        with bench_app():
            return run(db.engine, args, build_tree(scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run(engine, args, tree: Path) -> int:
    head = tenant_head()
    print(f"provisioning {args.tenants} tenants ...", file=sys.stderr, flush=True)
    seconds, accounts = timed(lambda: provision(engine, args.tenants))
    schemas = [account["schema_name"] for account in accounts]
    print(f"  {seconds:.1f} s", file=sys.stderr, flush=True)

    def migrate(processes: int) -> float:
        seconds, report = timed(lambda: migrate_fleet(engine, tree=tree, processes=processes))
        assert report.count("upgraded") == args.tenants, report.failed[:3]
        reset(engine, schemas, head)
        return seconds

    def nothing_pending() -> float:
        seconds, report = timed(lambda: migrate_fleet(engine, processes=args.processes))
        assert not report.outcomes and report.untouched == args.tenants, report
        return seconds

    def raw() -> float:
        seconds = baseline(engine, schemas)
        reset(engine, schemas, head)
        return seconds

    labels = {
        "idle": "nothing pending",
        "pool": f"migrate, processes={args.processes}",
        "one": "migrate, processes=1",
        "raw": "baseline: raw DDL, 1 connection",
    }
    runs: dict[str, list[float]] = {key: [] for key in labels}
    measures = {
        "idle": nothing_pending,
        "pool": lambda: migrate(args.processes),
        "one": lambda: migrate(1),
        "raw": raw,
    }
    order = list(measures)
    for attempt in range(1, args.repeats + 1):
        for key in order:  # rotated each run, so no measure always comes first or last
            runs[key].append(measures[key]())
        order = order[1:] + order[:1]
        figures = ", ".join(f"{key} {values[-1]:.3f} s" for key, values in runs.items())
        print(f"  run {attempt}: {figures}", file=sys.stderr, flush=True)

    medians = {key: statistics.median(values) for key, values in runs.items()}
    targets = {"idle": "<= 1 s", "pool": "<= 5 s"}
    print(f"\n{args.tenants} tenants, median of {args.repeats} run(s)")
    print(f"{'':34} {'seconds':>9} {'per tenant':>11} {'vs baseline':>12}  target")
    for key, label in labels.items():
        per = medians[key] / args.tenants * 1000
        ratio = medians[key] / medians["raw"]
        print(
            f"{label:34} {medians[key]:9.3f} {per:8.2f} ms {ratio:11.2f}x  {targets.get(key, '')}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
