"""Provisioning benchmark: ``python bench/provisioning.py [--samples N] [--levels 10,100,1000]``.

Creates its own database (dropped at the end) and, with 10, 100 and 1,000 accounts
already provisioned, times (each sample one account; the three interleaved in a
shuffled order each round, so drift hits them alike):

- ``raw DDL``: the baseline. The tenant script of :mod:`provisioning.ddl` for a new
  schema name, executed in one transaction on a warm connection; no registry row.
- ``create_account``: ``create_account`` + ``commit`` on the app's session, the
  default path with an empty spare pool: registry row (looking for a spare in the
  same statement), the script, commit. The session's connection is taken from the
  pool before the clock starts, as the baseline's is warm and as a sign-up's already
  is when it gets there (that checkout is timed apart, for information).
- ``with pool``: the same call with one spare schema ready to be claimed (made outside
  the clock just before): registry row, claim, ``ALTER SCHEMA … RENAME``, commit, and
  enqueueing the replacement job after commit.

Target: ``create_account`` p50 <= 1.2x the raw-DDL p50, and flat as accounts grow.
Then, for information, the whole ``POST /v1/auth/signup`` (argon2 hashing included)
with and without a spare, next to one argon2 hash alone.

Between levels the measured accounts are purged (outside the clock), so each level
runs with exactly that many accounts. The replacement jobs the pool runs enqueue are
deleted at the end, never run.

Environment: see :mod:`support`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import uuid

from sqlalchemy import delete, func, select
from support import bench_app

from core.jobs import queue
from identity.passwords import hash_password
from provisioning import spares
from provisioning.accounts import create_account
from provisioning.ddl import tenant_schema_script
from tenants.db import db
from tenants.models import Account

TARGET = 1.2


def p(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def clock(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


class Bench:
    def __init__(self, app) -> None:
        self.app = app
        self.engine = db.engine
        self.made = 0
        #: Schemas the baseline created without registry rows; dropped between levels.
        self.raw_schemas: list[str] = []
        #: The held connection of the baseline, warm for the whole run.
        self.warm = self.engine.connect()

    def name(self) -> str:
        self.made += 1
        return f"Bench Account {self.made}"

    # --- the three measured operations ---------------------------------------------------

    def raw_ddl(self) -> float:
        schema = f"t_{uuid.uuid4().hex}"
        script = tenant_schema_script(schema)
        self.raw_schemas.append(schema)

        def run() -> None:
            with self.warm.begin():
                self.warm.exec_driver_sql(script)

        return clock(run)

    def provision(self) -> float:
        name = self.name()
        # Check the session's connection out of the pool (with its pre-ping) before the
        # clock starts: warm, like the baseline's, and like a sign-up's, where
        # create_user has already taken it. Transaction begins at the first statement.
        db.session.connection()

        def run() -> None:
            create_account(db.session, name=name)
            db.session.commit()

        return clock(run)

    def checkout(self) -> float:
        """Taking a pooled connection (pre-ping included), for information."""

        def run() -> None:
            db.session.connection()

        elapsed = clock(run)
        db.session.rollback()
        return elapsed

    # --- setup and cleanup, outside the clock ---------------------------------------------

    def accounts(self) -> int:
        return db.session.scalar(select(func.count()).select_from(Account))

    def top_up(self, target: int) -> None:
        while (have := self.accounts()) < target:
            for _ in range(min(50, target - have)):
                create_account(db.session, name=self.name(), use_spares=False)
            db.session.commit()

    def purge_measured(self, keep: int) -> None:
        """Drop every account past the first ``keep`` and every baseline schema."""
        doomed = db.session.execute(
            select(Account.id, Account.schema_name).order_by(Account.created_at).offset(keep)
        ).all()
        schemas = [row.schema_name for row in doomed] + self.raw_schemas
        for start in range(0, len(schemas), 100):
            chunk = schemas[start : start + 100]
            db.session.connection().exec_driver_sql(
                ";".join(f'DROP SCHEMA "{schema}" CASCADE' for schema in chunk)
            )
        if doomed:
            db.session.execute(delete(Account).where(Account.id.in_([r.id for r in doomed])))
        db.session.commit()
        db.session.expunge_all()
        self.raw_schemas = []

    def drop_replenish_jobs(self) -> int:
        pending = [
            job
            for job in queue(spares.QUEUE).get_jobs()
            if job.func_name.endswith("spares.replenish")
        ]
        for job in pending:
            job.delete()
        return len(pending)


def measure_level(bench: Bench, level: int, samples: int) -> dict[str, list[float]]:
    bench.top_up(level)
    times: dict[str, list[float]] = {"raw": [], "ddl": [], "pool": [], "checkout": []}
    for _ in range(3):  # warm-up, not recorded
        bench.raw_ddl()
        bench.provision()

    def pooled() -> float:
        spares.create_spare(bench.engine)  # exactly one spare, made outside the clock
        elapsed = bench.provision()
        assert spares.status(bench.engine).available == 0, "the pool sample took the spare"
        return elapsed

    # ddl: the pool is empty, the default path
    runs = {"raw": bench.raw_ddl, "ddl": bench.provision, "pool": pooled}
    order = random.Random(level)
    for _ in range(samples):
        # A fresh order each round, so no variant always follows the same neighbour.
        for key in order.sample(sorted(runs), len(runs)):
            times[key].append(runs[key]())
        times["checkout"].append(bench.checkout())
    bench.purge_measured(keep=level)
    assert bench.accounts() == level
    return times


def measure_signup(app, bench: Bench, samples: int) -> dict[str, list[float]]:
    client = app.test_client()
    times: dict[str, list[float]] = {"argon2": [], "empty pool": [], "spare": []}

    def signup() -> float:
        body = {
            "email": f"bench-{uuid.uuid4().hex[:12]}@example.test",
            "password": "correct horse battery",
            "name": "Bench",
            "account_name": bench.name(),
        }
        started = time.perf_counter()
        response = client.post("/v1/auth/signup", json=body)
        elapsed = time.perf_counter() - started
        assert response.status_code == 201, response.json
        return elapsed

    signup()  # warm-up
    for _ in range(samples):
        times["argon2"].append(clock(lambda: hash_password("correct horse battery")))
        times["empty pool"].append(signup())
    spares.fill(bench.engine, samples)
    for _ in range(samples):
        times["spare"].append(signup())
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40, help="accounts timed per level")
    parser.add_argument("--levels", default="10,100,1000", help="existing accounts")
    args = parser.parse_args(argv)
    levels = [int(level) for level in args.levels.split(",")]

    with bench_app(auth_rate_limit=1_000_000) as app:
        bench = Bench(app)
        try:
            return run(app, bench, levels, args.samples)
        finally:
            bench.drop_replenish_jobs()
            bench.warm.close()


def run(app, bench: Bench, levels: list[int], samples: int) -> int:
    results = {}
    for level in levels:
        print(f"{level} existing accounts: {samples} samples ...", file=sys.stderr, flush=True)
        results[level] = measure_level(bench, level, samples)

    print(f"\nProvisioning one account, {samples} samples per row (ms, p50 / p90)")
    header = (
        f"{'existing':>8}  {'raw DDL':>13}  {'create_account':>15}  {'ratio':>5}  "
        f"{'+ms':>5}  {'with pool':>13}  {'ratio':>5}"
    )
    print(header)
    print("-" * len(header))
    passed = True
    for level, times in results.items():
        base = p(times["raw"], 0.5)
        ratio, pool_ratio = p(times["ddl"], 0.5) / base, p(times["pool"], 0.5) / base
        # The median of per-sample differences: what the registry adds, drift cancelled.
        pairs = zip(times["ddl"], times["raw"], strict=True)
        extra = statistics.median(d - r for d, r in pairs) * 1000
        passed &= ratio <= TARGET
        print(
            f"{level:>8}  {base:6.2f} /{p(times['raw'], 0.9):6.2f}  "
            f"{p(times['ddl'], 0.5):7.2f} /{p(times['ddl'], 0.9):6.2f}  {ratio:5.2f}  "
            f"{extra:5.2f}  "
            f"{p(times['pool'], 0.5):6.2f} /{p(times['pool'], 0.9):6.2f}  {pool_ratio:5.2f}"
        )
    print("ratio: p50 / raw-DDL p50; +ms: median of paired differences create_account - raw DDL")
    extras = [
        statistics.median(d - r for d, r in zip(t["ddl"], t["raw"], strict=True)) * 1000
        for t in results.values()
    ]
    print(
        f"target: create_account p50 <= {TARGET}x raw DDL at every level: "
        f"{'met' if passed else 'MISSED'}; what the registry adds stays "
        f"{min(extras):.2f}-{max(extras):.2f} ms from {min(results)} to {max(results)} accounts"
    )

    print(f"\nFull sign-up through the API ({samples} samples, ms), for information")
    signup = measure_signup(app, bench, samples)
    for label, values in signup.items():
        what = "argon2id hash alone" if label == "argon2" else f"POST /v1/auth/signup, {label}"
        print(f"  {what:40} p50 {p(values, 0.5):7.2f}  p90 {p(values, 0.9):7.2f}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
