"""Fleet migrations: every tenant to head, one transaction each, safe to run concurrently.

Revisions come from copies of the tenant tree with extra revisions (``fleet_tree``);
every run is narrowed to the test's own accounts (``only=`` / ``--account``), so
tenants made by other tests are neither touched nor counted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from migrations import TENANT_TREE, tenant_head
from provisioning.fleet import (
    CURRENT,
    FAILED,
    GLOBAL_LOCK,
    UPGRADED,
    migrate_fleet,
    tenant_lock_key,
)
from tenants.db import db

ROOT = Path(__file__).resolve().parents[2]

SOURCE = (
    "tf_source",
    """
    op.add_column("contacts", sa.Column("source", sa.String(40), nullable=True))
    op.create_index("ix_contacts_source", "contacts", ["source"])
    """,
)

#: Adds a column, then fails in any tenant with two contacts at one company.
UNIQUE_COMPANY = (
    "tf_unique_company",
    """
    op.add_column("contacts", sa.Column("tier", sa.String(20), nullable=True))
    op.create_index("uq_contacts_company", "contacts", ["company"], unique=True)
    """,
)

#: A bit of everything: an enum type, a defaulted column, a data update through plain
#: SQL, a table with a foreign key, a check constraint, a server default and an index.
RICH = (
    "tf_rich",
    """
    stage = postgresql.ENUM("lead", "customer", "churned", name="contact_stage")
    stage.create(op.get_bind())
    op.add_column(
        "contacts",
        sa.Column(
            "stage",
            postgresql.ENUM(name="contact_stage", create_type=False),
            nullable=False,
            server_default="lead",
        ),
    )
    op.execute("UPDATE contacts SET company = upper(company)")
    op.create_table(
        "notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("contact_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notes"),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_notes_contact_id_contacts", ondelete="CASCADE"
        ),
        sa.CheckConstraint("length(body) > 0", name="ck_notes_body_not_empty"),
    )
    op.create_index("ix_notes_contact_id", "notes", ["contact_id"])
    """,
)


# --- helpers -------------------------------------------------------------------------------


def catalog(conn, schema: str) -> dict:
    """Everything that defines a schema, with its own name replaced by ``<tenant>``.

    Columns are compared with their position (among the columns not dropped), type,
    nullability and default, so ``SELECT *`` reads the same everywhere.
    """

    def rows(sql: str) -> list[tuple]:
        found = conn.exec_driver_sql(sql, {"schema": schema}).all()
        return sorted(tuple(str(v).replace(schema, "<tenant>") for v in row) for row in found)

    in_schema = "(SELECT oid FROM pg_namespace WHERE nspname = %(schema)s)"
    return {
        "relations": rows(
            f"SELECT relname, relkind FROM pg_class WHERE relnamespace = {in_schema} "
            "AND relkind <> 't'"
        ),
        "columns": rows(
            "SELECT c.relname, row_number() OVER (PARTITION BY c.relname ORDER BY a.attnum), "
            "a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
            "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            f"WHERE c.relnamespace = {in_schema} AND c.relkind IN ('r', 'p', 'v', 'm') "
            "AND a.attnum > 0 AND NOT a.attisdropped"
        ),
        "constraints": rows(
            "SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid) "
            "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
            f"WHERE k.connamespace = {in_schema}"
        ),
        "indexes": rows(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %(schema)s"
        ),
        "types": rows(
            "SELECT t.typname, t.typtype, array_agg(e.enumlabel ORDER BY e.enumsortorder) "
            "FROM pg_type t LEFT JOIN pg_enum e ON e.enumtypid = t.oid "
            f"WHERE t.typnamespace = {in_schema} AND t.typtype IN ('e', 'd', 'c') "
            "AND NOT EXISTS (SELECT 1 FROM pg_class r WHERE r.reltype = t.oid) "
            "GROUP BY t.typname, t.typtype"
        ),
    }


def catalog_of(app, schema: str) -> dict:
    with app.app_context(), db.engine.connect() as conn:
        return catalog(conn, schema)


def stamped(app, tenant) -> tuple[list[str], str | None]:
    """The schema's ``alembic_version`` rows and the registry's ``schema_revision``."""
    with app.app_context(), db.engine.connect() as conn:
        versions = conn.exec_driver_sql(
            f'SELECT version_num FROM "{tenant.schema}".alembic_version'
        ).scalars()
        registry = conn.exec_driver_sql(
            "SELECT schema_revision FROM public.accounts WHERE id = %s", (tenant.id,)
        ).scalar()
        return list(versions), registry


def row_versions(app, tenants) -> dict:
    """xmin of each tenant's registry row and version row: they change on any write."""
    with app.app_context(), db.engine.connect() as conn:
        found = {}
        for tenant in tenants:
            found[tenant.id] = (
                conn.exec_driver_sql(
                    "SELECT xmin::text FROM public.accounts WHERE id = %s", (tenant.id,)
                ).scalar(),
                conn.exec_driver_sql(
                    f'SELECT xmin::text FROM "{tenant.schema}".alembic_version'
                ).scalar(),
            )
        return found


def add_contacts(app, tenant, *companies: str) -> None:
    with app.app_context(), db.engine.begin() as conn:
        for number, company in enumerate(companies):
            conn.exec_driver_sql(
                f'INSERT INTO "{tenant.schema}".contacts (id, name, company, created_at, '
                "updated_at) VALUES (gen_random_uuid(), %s, %s, now(), now())",
                (f"Contact {number}", company),
            )


def contacts_of(app, tenant) -> list[tuple]:
    with app.app_context(), db.engine.connect() as conn:
        return sorted(
            conn.exec_driver_sql(
                f'SELECT id, name, company, created_at FROM "{tenant.schema}".contacts'
            ).all()
        )


def has_column(app, tenant, column: str) -> bool:
    with app.app_context(), db.engine.connect() as conn:
        return bool(
            conn.exec_driver_sql(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = 'contacts' AND column_name = %s",
                (tenant.schema, column),
            ).scalar()
        )


def fleet(app, tree: Path, tenants, **options):
    with app.app_context():
        return migrate_fleet(db.engine, tree=tree, only=[t.id for t in tenants], **options)


@pytest.fixture
def migrate_cli(app):
    """``flask tenants migrate`` in-process; returns (exit code, summary, stderr)."""
    runner = app.test_cli_runner()

    def invoke(tree: Path, tenants, *extra: str):
        args = ["tenants", "migrate", "--tree", str(tree), "--processes", "1", *extra]
        for tenant in tenants:
            args += ["--account", str(tenant.id)]
        result = runner.invoke(args=args)
        assert "Traceback" not in result.output, result.output
        summary = json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout else None
        return result.exit_code, summary, result.stderr

    return invoke


# --- one revision across the fleet ---------------------------------------------------------


def test_a_ddl_revision_reaches_every_tenant_and_a_rerun_touches_nothing(
    app, fleet_tenants, fleet_tree, migrate_cli
):
    tenants = fleet_tenants(4)
    for tenant in tenants:
        add_contacts(app, tenant, "Initech", "Hooli")
    before = {tenant.id: contacts_of(app, tenant) for tenant in tenants}
    tree = fleet_tree(SOURCE)

    report = fleet(app, tree, tenants, processes=1)

    assert report.head == "tf_source"
    assert report.untouched == 0
    assert sorted(o.account_id for o in report.outcomes) == sorted(t.id for t in tenants)
    assert {(o.outcome, o.revision, o.error) for o in report.outcomes} == {
        (UPGRADED, "tf_source", None)
    }
    for tenant in tenants:
        assert stamped(app, tenant) == (["tf_source"], "tf_source")
        assert contacts_of(app, tenant) == before[tenant.id]
        shape = catalog_of(app, tenant.schema)
        assert ("contacts", "11", "source", "character varying(40)", "False", "None") in shape[
            "columns"
        ]
        assert (
            "contacts",
            "ix_contacts_source",
            "CREATE INDEX ix_contacts_source ON <tenant>.contacts USING btree (source)",
        ) in shape["indexes"]

    # Nothing pending: the registry says so, and no row is written, here or in any schema.
    written = row_versions(app, tenants)
    code, summary, _ = migrate_cli(tree, tenants)
    assert code == 0
    assert summary == {
        "head": "tf_source",
        "upgraded": 0,
        "already_current": 4,
        "failed": 0,
        "failures": [],
    }
    again = fleet(app, tree, tenants, processes=1)
    assert again.outcomes == [] and again.untouched == 4
    assert row_versions(app, tenants) == written


def test_without_accounts_named_every_account_is_considered(app, fleet_tenants):
    """The real tree, the real command: every account counted, ours already current."""
    tenants = fleet_tenants(2)
    with app.app_context(), db.engine.connect() as conn:
        accounts = conn.exec_driver_sql("SELECT count(*) FROM public.accounts").scalar()
    result = app.test_cli_runner().invoke(args=["tenants", "migrate", "--processes", "1"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["head"] == tenant_head()
    assert summary["upgraded"] + summary["already_current"] == accounts
    assert summary["failed"] == 0
    for tenant in tenants:
        assert stamped(app, tenant) == ([tenant_head()], tenant_head())


def test_a_stale_registry_is_corrected_without_running_anything(app, fleet_tenants, fleet_tree):
    """The schema is the truth: at head already, only the registry row is brought up."""
    (tenant,) = fleet_tenants(1)
    tree = fleet_tree(SOURCE)
    fleet(app, tree, [tenant], processes=1)
    with app.app_context(), db.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE public.accounts SET schema_revision = NULL WHERE id = %s", (tenant.id,)
        )
    report = fleet(app, tree, [tenant], processes=1)
    assert [(o.outcome, o.revision) for o in report.outcomes] == [(CURRENT, "tf_source")]
    assert stamped(app, tenant) == (["tf_source"], "tf_source")


# --- failures stay with their tenant -------------------------------------------------------


def test_a_revision_failing_in_one_tenant_leaves_it_intact_and_a_rerun_resumes(
    app, fleet_tenants, fleet_tree, migrate_cli
):
    first, broken, last = tenants = fleet_tenants(3)
    add_contacts(app, first, "Initech", "Hooli")
    add_contacts(app, broken, "Initech", "Initech", "Hooli")  # no unique index possible
    add_contacts(app, last, "Hooli")
    shape_before, data_before = catalog_of(app, broken.schema), contacts_of(app, broken)
    tree = fleet_tree(UNIQUE_COMPANY)

    code, summary, stderr = migrate_cli(tree, tenants)

    assert code == 1
    assert summary["upgraded"] == 2 and summary["failed"] == 1
    (failure,) = summary["failures"]
    assert failure["account"] == str(broken.id) and failure["schema"] == broken.schema
    assert "UniqueViolation" in failure["error"] and "uq_contacts_company" in failure["error"]
    assert broken.schema in stderr and str(broken.id) in stderr
    # The failed tenant is exactly as it was, the column added before the failing index
    # included; the registry still shows its previous revision.
    assert stamped(app, broken) == ([tenant_head()], tenant_head())
    assert catalog_of(app, broken.schema) == shape_before
    assert not has_column(app, broken, "tier")
    assert contacts_of(app, broken) == data_before
    for tenant in (first, last):
        assert stamped(app, tenant) == (["tf_unique_company"], "tf_unique_company")
        assert has_column(app, tenant, "tier")

    # Fix the data; the next run picks up where the last one failed, and only there.
    with app.app_context(), db.engine.begin() as conn:
        conn.exec_driver_sql(
            f"UPDATE \"{broken.schema}\".contacts SET company = 'Initrode' WHERE name = 'Contact 1'"
        )
    untouched = row_versions(app, [first, last])
    code, summary, _ = migrate_cli(tree, tenants)
    assert code == 0
    assert (summary["upgraded"], summary["already_current"], summary["failed"]) == (1, 2, 0)
    assert stamped(app, broken) == (["tf_unique_company"], "tf_unique_company")
    assert has_column(app, broken, "tier")
    assert row_versions(app, [first, last]) == untouched


def test_a_locked_tenant_fails_fast_and_stays_put(app, database_url, fleet_tenants, fleet_tree):
    first, locked, last = tenants = fleet_tenants(3)
    tree = fleet_tree(SOURCE)
    with psycopg.connect(database_url) as blocker:
        # Ends the blocker if the migration waits on it, so a regression fails, not hangs.
        blocker.execute("SET idle_in_transaction_session_timeout = '10s'")
        # An open transaction that has read the table: ALTER TABLE must wait for it.
        blocker.execute(f'SELECT count(*) FROM "{locked.schema}".contacts').fetchone()
        started = time.monotonic()
        report = fleet(app, tree, tenants, processes=1, lock_timeout_ms=300)
        elapsed = time.monotonic() - started
        outcomes = {o.account_id: o for o in report.outcomes}
        assert outcomes[locked.id].outcome == FAILED
        assert "LockNotAvailable" in outcomes[locked.id].error
        assert "lock timeout" in outcomes[locked.id].error
        assert elapsed < 3, "the tenant should have given up after 300 ms"
        assert stamped(app, locked) == ([tenant_head()], tenant_head())
        assert not has_column(app, locked, "source")
        for tenant in (first, last):
            assert outcomes[tenant.id].outcome == UPGRADED
            assert stamped(app, tenant) == (["tf_source"], "tf_source")
        blocker.rollback()

    report = fleet(app, tree, tenants, processes=1, lock_timeout_ms=300)
    assert [(o.account_id, o.outcome) for o in report.outcomes] == [(locked.id, UPGRADED)]
    assert has_column(app, locked, "source")


def test_a_tenant_someone_else_is_migrating_is_skipped_not_waited_for(
    app, database_url, fleet_tenants, fleet_tree
):
    busy, fine = tenants = fleet_tenants(2)
    tree = fleet_tree(SOURCE)
    with psycopg.connect(database_url) as other:
        other.execute("SELECT pg_advisory_xact_lock(%s)", (tenant_lock_key(busy.schema),))
        report = fleet(app, tree, tenants, processes=1)
        other.rollback()
    outcomes = {o.account_id: o for o in report.outcomes}
    assert outcomes[busy.id].outcome == FAILED
    assert outcomes[busy.id].error == "TenantBusy: another process is migrating this tenant"
    assert stamped(app, busy) == ([tenant_head()], tenant_head())
    assert outcomes[fine.id].outcome == UPGRADED
    again = fleet(app, tree, tenants, processes=1)
    assert [(o.account_id, o.outcome) for o in again.outcomes] == [(busy.id, UPGRADED)]


def test_a_tenant_at_an_unknown_revision_fails_alone(app, fleet_tenants, fleet_tree):
    stray, fine = tenants = fleet_tenants(2)
    with app.app_context(), db.engine.begin() as conn:
        conn.exec_driver_sql(
            f"UPDATE \"{stray.schema}\".alembic_version SET version_num = 'from_the_future'"
        )
    report = fleet(app, fleet_tree(SOURCE), tenants, processes=1)
    outcomes = {o.account_id: o for o in report.outcomes}
    assert outcomes[stray.id].outcome == FAILED
    assert "from_the_future" in outcomes[stray.id].error
    assert stamped(app, stray) == (["from_the_future"], tenant_head())
    assert outcomes[fine.id].outcome == UPGRADED


# --- concurrency ---------------------------------------------------------------------------


def test_two_concurrent_cli_runs_migrate_each_tenant_exactly_once(
    app, database_url, redis_url, signing_key, fleet_tenants, fleet_tree, fleet_log
):
    tenants = fleet_tenants(6)
    tree = fleet_tree(
        (
            "tf_concurrent",
            f"""
            op.add_column("contacts", sa.Column("source", sa.String(40), nullable=True))
            op.execute(
                "INSERT INTO public.{fleet_log} (schema, pid) VALUES (current_schema(), 0)"
            )
            """,
        )
    )
    env = {
        **os.environ,
        "TURUMBA_DATABASE_URL": database_url,
        "TURUMBA_REDIS_URL": redis_url,
        "TURUMBA_JWT_PRIVATE_KEY": signing_key,
        "TURUMBA_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "tenants", "migrate"]
    command += ["--tree", str(tree), "--processes", "1"]
    for tenant in tenants:
        command += ["--account", tenant.slug]

    with psycopg.connect(database_url, autocommit=True) as holder:
        # Hold the run lock until both runs are waiting for it, so they really race.
        holder.execute("SELECT pg_advisory_lock(%s)", (GLOBAL_LOCK,))
        runs = [
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            deadline = time.monotonic() + 60
            while True:
                waiting = holder.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND query LIKE 'SELECT pg_try_advisory_lock(%'"
                ).fetchone()[0]
                if waiting == 2:
                    break
                assert all(run.poll() is None for run in runs), [r.communicate() for r in runs]
                assert time.monotonic() < deadline, "the runs never reached the lock"
                time.sleep(0.05)
        finally:
            holder.execute("SELECT pg_advisory_unlock(%s)", (GLOBAL_LOCK,))
        outputs = [run.communicate(timeout=120) for run in runs]

    for run, (_, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stderr
    summaries = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]
    assert sorted(s["upgraded"] for s in summaries) == [0, 6]
    assert all(s["upgraded"] + s["already_current"] == 6 for s in summaries)
    assert all(s["failed"] == 0 for s in summaries)
    with app.app_context(), db.engine.connect() as conn:
        runs_per_schema = Counter(
            conn.exec_driver_sql(f"SELECT schema FROM public.{fleet_log}").scalars()
        )
    assert runs_per_schema == {tenant.schema: 1 for tenant in tenants}
    for tenant in tenants:
        assert stamped(app, tenant) == (["tf_concurrent"], "tf_concurrent")


def test_a_run_gives_up_when_another_holds_the_lock_too_long(
    app, database_url, fleet_tenants, fleet_tree, migrate_cli
):
    tenants = fleet_tenants(1)
    tree = fleet_tree(SOURCE)
    with psycopg.connect(database_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (GLOBAL_LOCK,))
        code, summary, stderr = migrate_cli(tree, tenants, "--wait", "0.3")
    assert code == 1 and summary is None
    assert "still running" in stderr
    assert stamped(app, tenants[0]) == ([tenant_head()], tenant_head())


def test_the_process_pool_gives_the_same_result_as_one_process(
    app, fleet_tenants, fleet_tree, fleet_log
):
    tree = fleet_tree(
        (
            "tf_pooled",
            f"""
            import os

            op.add_column("contacts", sa.Column("source", sa.String(40), nullable=True))
            op.create_index("uq_contacts_company", "contacts", ["company"], unique=True)
            op.execute(
                "INSERT INTO public.{fleet_log} (schema, pid) "
                f"VALUES (current_schema(), {{os.getpid()}})"
            )
            op.execute("SELECT pg_sleep(0.02)")
            """,
        )
    )
    groups = {}
    for processes in (1, 2):
        tenants = fleet_tenants(10, prefix=f"Pool {processes}")
        add_contacts(app, tenants[3], "Initech", "Initech")  # fails in both runs
        report = fleet(app, tree, tenants, processes=processes)
        groups[processes] = tenants, report

    with app.app_context(), db.engine.connect() as conn:
        pids = {
            processes: set(
                conn.exec_driver_sql(
                    f"SELECT pid FROM public.{fleet_log} WHERE schema = ANY(%s)",
                    ([t.schema for t in tenants],),
                ).scalars()
            )
            for processes, (tenants, _) in groups.items()
        }
    assert pids[1] == {os.getpid()}
    assert len(pids[2]) == 2 and os.getpid() not in pids[2], "two worker processes"

    def summary(tenants, report):
        index = {tenant.id: number for number, tenant in enumerate(tenants)}
        return sorted(
            (index[o.account_id], o.outcome, o.revision, o.error and o.error.split(" DETAIL")[0])
            for o in report.outcomes
        )

    (one, report_one), (two, report_two) = groups[1], groups[2]
    assert summary(one, report_one) == summary(two, report_two)
    assert [item[1] for item in summary(one, report_one)] == [UPGRADED] * 3 + [FAILED] + [
        UPGRADED
    ] * 6
    upgraded = catalog_of(app, one[0].schema)
    failed = catalog_of(app, one[3].schema)
    for tenants in (one, two):
        for number, tenant in enumerate(tenants):
            expected = failed if number == 3 else upgraded
            assert catalog_of(app, tenant.schema) == expected
            revision = tenant_head() if number == 3 else "tf_pooled"
            assert stamped(app, tenant) == ([revision], revision)


# --- provisioned and migrated schemas are the same -----------------------------------------


def test_a_provisioned_tenant_matches_one_migrated_from_empty(
    app, fleet_tenants, fleet_empty_tenant
):
    (provisioned,) = fleet_tenants(1)
    empty = fleet_empty_tenant()

    report = fleet(app, TENANT_TREE, [provisioned, empty], processes=1)

    assert [(o.account_id, o.outcome) for o in report.outcomes] == [(empty.id, UPGRADED)]
    assert report.untouched == 1
    assert stamped(app, empty) == ([tenant_head()], tenant_head())
    built = catalog_of(app, empty.schema)
    assert built == catalog_of(app, provisioned.schema)
    assert {"contacts", "alembic_version"} <= {name for name, _ in built["relations"]}


def test_a_migrated_tenant_matches_one_built_from_empty_on_a_longer_tree(
    app, fleet_tenants, fleet_empty_tenant, fleet_tree
):
    (provisioned,) = fleet_tenants(1)
    add_contacts(app, provisioned, "initech")
    empty = fleet_empty_tenant()
    tree = fleet_tree(SOURCE, RICH)

    report = fleet(app, tree, [provisioned, empty], processes=1)

    assert {o.outcome for o in report.outcomes} == {UPGRADED}
    for tenant in (provisioned, empty):
        assert stamped(app, tenant) == (["tf_rich"], "tf_rich")
    built, migrated = catalog_of(app, empty.schema), catalog_of(app, provisioned.schema)
    assert built == migrated
    assert ("contact_stage", "e", "['lead', 'customer', 'churned']") in built["types"]
    assert (
        "contacts",
        "12",
        "stage",
        "<tenant>.contact_stage",
        "True",
        "'lead'::<tenant>.contact_stage",
    ) in built["columns"]
    assert (
        "notes",
        "fk_notes_contact_id_contacts",
        "f",
        "FOREIGN KEY (contact_id) REFERENCES <tenant>.contacts(id) ON DELETE CASCADE",
    ) in built["constraints"]
    # Plain SQL in a revision ran against the tenant's own tables.
    assert [row[2] for row in contacts_of(app, provisioned)] == ["INITECH"]
