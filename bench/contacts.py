"""Contacts benchmark: ``python bench/contacts.py [--rows N] [--repeats R] [--quick]``.

**Import.** A CSV file of ``--rows`` contacts (name, email, phone as people write it,
company, two tags, a single-select and a number custom field) is imported the way a user
imports it: uploaded (:func:`crm.imports.service.upload`, the suggested mapping kept),
started, and run by a real ``flask worker`` on the same database, timed from the start
until the import reads ``completed``. Beside it, the baseline: PostgreSQL ``COPY`` of the
same file into a table of text columns, in the same database, the same run. Figures:
rows a second (median of ``--repeats``, each into a fresh account), and the peak memory
of the worker — the resident set of the worker process and of the reader processes it
spawns, summed, sampled every 20 ms — for a file a tenth the size and for the full file:
flat memory means the two peaks are close.

**Segment listing.** Over the imported account's contacts (``--rows`` of them), a segment
whose condition is a JSONLogic document as the designer saves it (a custom field equal
to a value, a tag, a number at least a bound, a company starting with a text) is listed
through :func:`crm.segments.service.contacts_matching`: compiled from its document
(reading the account's custom field definitions) and its first page of 50 fetched, newest
first, with the total count. The baseline is the same filter written as SQL by hand, the
same page and count. Figure: p50 milliseconds of each, and their ratio.

Targets: import >= 5,000 rows/s with flat memory; segment listing within 1.5x the
hand-written SQL.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import phonenumbers

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402
from support import bench_app, children, command, environment, process, provision  # noqa: E402

from audit.service import SYSTEM  # noqa: E402
from crm.custom_fields import create_definition  # noqa: E402
from crm.imports import service as imports  # noqa: E402
from crm.imports.models import ContactImport  # noqa: E402
from crm.models import Contact  # noqa: E402
from crm.segments.service import contacts_matching  # noqa: E402
from tenants.db import db  # noqa: E402
from tenants.registry import registry  # noqa: E402
from tenants.session import tenant_session  # noqa: E402

TARGET_RATE = 5_000
TARGET_RATIO = 1.5
PAGE = 50
PLANS = ("free", "pro", "enterprise")
TAGS = ("vip", "newsletter", "churn-risk", "partner", "beta")
HEADER = ("Full name", "E-mail", "Mobile", "Organisation", "Tags", "Plan", "Seats")
COPY_TABLE = "bench_copy"


def var(path: str) -> dict:
    return {"var": path}


SEGMENT = {
    "and": [
        {"==": [var("contact.custom_fields.plan"), "pro"]},
        {"in": ["vip", var("contact.tags")]},
        {">=": [var("contact.custom_fields.seats"), 10]},
        {"starts_with": [var("contact.company"), "A"]},
    ]
}


def hand_written(schema: str) -> tuple[str, str]:
    """The segment's filter as one would write it in SQL: its page and its count."""
    where = f"""
        FROM "{schema}".contacts c
        WHERE c.deleted_at IS NULL
          AND c.custom_fields @> '{{"plan": "pro"}}'
          AND (c.custom_fields ->> 'seats')::numeric >= 10
          AND c.company LIKE 'A%'
          AND EXISTS (SELECT 1 FROM "{schema}".contact_tags ct
                      JOIN "{schema}".tags t ON t.id = ct.tag_id
                      WHERE ct.contact_id = c.id AND t.key = 'vip')"""
    page = f"SELECT c.* {where} ORDER BY c.created_at DESC, c.id DESC LIMIT {PAGE}"
    return page, f"SELECT count(*) {where}"


def phones_written(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct valid US numbers, written as people write them
    (``+1 (650) 253-0123``): the import brings them to E.164."""
    found: set[str] = set()
    while len(found) < count:
        area, exchange, line = rng.choice((650, 415, 212, 312)), rng.randint(200, 999), 0
        line = rng.randint(0, 9999)
        number = phonenumbers.parse(f"+1{area}{exchange}{line:04d}")
        if phonenumbers.is_valid_number(number):
            found.add(f"+1 ({area}) {exchange}-{line:04d}")
    return sorted(found, key=lambda _: rng.random())


def write_file(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    phones = phones_written(rows, rng)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow(
                (
                    f"Contact {n}",
                    f"contact{n}@example.com",
                    phones[n],
                    rng.choice(("Acme", "Globex", "Initech", "Umbrella", "Aperture"))
                    + f" {n % 97}",
                    "; ".join(rng.sample(TAGS, 2)),
                    rng.choice(PLANS),
                    rng.randint(1, 50),
                )
            )


def define_fields(account) -> None:
    with tenant_session(account) as session:
        create_definition(
            session,
            actor=SYSTEM,
            entity="contact",
            key="plan",
            label="Plan",
            type="single_select",
            options=list(PLANS),
        )
        create_definition(
            session, actor=SYSTEM, entity="contact", key="seats", label="Seats", type="number"
        )


class PeakMemory:
    """The largest resident set of ``pid`` and its children together, sampled meanwhile."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            total = sum(self._rss(pid) for pid in (self.pid, *children(self.pid)))
            self.peak = max(self.peak, total)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def import_once(account, path: Path, worker_pid: int, timeout: float) -> tuple[float, int, int]:
    """Upload, start and wait for one import: (seconds from the start, peak bytes,
    contacts created)."""
    with tenant_session(account) as session, path.open("rb") as stream:
        contact_import = imports.upload(
            session,
            stream,
            filename=path.name,
            content_type="text/csv",
            account_id=account.id,
            actor=SYSTEM,
            user_id=None,
        )
        import_id = contact_import.id
    with PeakMemory(worker_pid) as memory:
        started = time.perf_counter()
        with tenant_session(account) as session:
            imports.start(
                session, session.get(ContactImport, import_id), account_id=account.id, actor=SYSTEM
            )
        deadline = time.monotonic() + timeout
        while True:
            with tenant_session(account) as session:
                found = session.get(ContactImport, import_id)
                status, failed, created = found.status, found.failed, found.created
            if status in ("completed", "failed", "cancelled"):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the import is still {status} after {timeout} s")
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
    if status != "completed" or failed:
        raise RuntimeError(f"the import ended {status} with {failed} failed rows")
    return elapsed, memory.peak, created


def copy_once(path: Path) -> float:
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(f"TRUNCATE {COPY_TABLE}")
        started = time.perf_counter()
        with (
            path.open("rb") as stream,
            cursor.copy(f"COPY {COPY_TABLE} FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
        ):
            while block := stream.read(1 << 16):
                copy.write(block)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def timed(run, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def segment_bench(account, samples: int) -> tuple[list[float], list[float], int]:
    page_sql, count_sql = hand_written(account.schema_name)

    def ours() -> tuple[list, int]:
        with tenant_session(account) as session:
            query = contacts_matching(session, SEGMENT)
            page = session.scalars(
                query.order_by(Contact.created_at.desc(), Contact.id.desc()).limit(PAGE)
            ).all()
            total = session.scalar(select(func.count()).select_from(query.subquery()))
            return [c.id for c in page], total

    def baseline() -> tuple[list, int]:
        with db.engine.connect() as conn:  # names its schema itself, as by hand
            page = [row.id for row in conn.execute(text(page_sql))]
            return page, conn.scalar(text(count_sql))

    mine, theirs = ours(), baseline()
    if mine != theirs:
        raise RuntimeError(f"the segment and the SQL disagree: {mine[1]} vs {theirs[1]}")
    ours_ms, base_ms = [], []
    for _ in range(samples):  # interleaved, so the machine's load hits both alike
        ours_ms += timed(ours, 1)
        base_ms += timed(baseline, 1)
    return ours_ms, base_ms, theirs[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=50, help="segment listings timed")
    parser.add_argument("--quick", action="store_true", help="10,000 rows, 1 repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeats, args.samples = 10_000, 1, 20
    small_rows = max(args.rows // 10, 1)
    with tempfile.TemporaryDirectory(prefix="turumba-bench-contacts-") as folder:
        full, small = Path(folder) / "contacts.csv", Path(folder) / "contacts-small.csv"
        print(f"writing {args.rows:,} rows ...", file=sys.stderr, flush=True)
        write_file(full, args.rows)
        write_file(small, small_rows, seed=8)
        with bench_app() as app:
            rows = provision(db.engine, args.repeats + 1)
            accounts = [registry().get(row["id"]) for row in rows]
            for account in accounts:
                define_fields(account)
            with db.engine.begin() as conn:
                conn.exec_driver_sql(
                    f"CREATE TABLE {COPY_TABLE} ("
                    + ", ".join(f'"{name}" text' for name in HEADER)
                    + ")"
                )
            copies = [copy_once(full) for _ in range(args.repeats)]
            worker_args = [command("flask"), "worker"]
            with process(worker_args, environment(app), "worker") as (worker, _):
                timeout = max(600.0, args.rows / 500)
                _, small_peak, _ = import_once(accounts[-1], small, worker.pid, timeout)
                runs = [
                    import_once(account, full, worker.pid, timeout)
                    for account in accounts[: args.repeats]
                ]
            if any(created != args.rows for _, _, created in runs):
                raise RuntimeError(f"an import did not create {args.rows} contacts: {runs}")
            ours_ms, base_ms, members = segment_bench(accounts[0], args.samples)
        return report(args, small_rows, small_peak, runs, copies, ours_ms, base_ms, members)


def report(args, small_rows, small_peak, runs, copies, ours_ms, base_ms, members) -> int:
    import_rate = args.rows / statistics.median(t for t, _, _ in runs)
    copy_rate = args.rows / statistics.median(copies)
    full_peak = max(peak for _, peak, _ in runs)
    mib = 1024 * 1024
    print(f"\nImport of {args.rows:,} rows (median of {args.repeats}), same database, same run")
    print(f"{'':28}{'rows/s':>12}{'vs COPY':>10}")
    print(f"{'PostgreSQL COPY (baseline)':28}{copy_rate:>12,.0f}{1:>10.2f}")
    print(f"{'Turumba import (worker)':28}{import_rate:>12,.0f}{import_rate / copy_rate:>10.2f}")
    print("\nPeak memory of the worker and its reader processes")
    print(f"{'rows':>10}{'MiB':>10}")
    print(f"{small_rows:>10,}{small_peak / mib:>10.1f}")
    print(f"{args.rows:>10,}{full_peak / mib:>10.1f}")
    ours, base = statistics.median(ours_ms), statistics.median(base_ms)
    print(
        f"\nSegment listing over {args.rows:,} contacts ({members:,} members; page {PAGE}"
        f" + count; p50 of {args.samples})"
    )
    print(f"{'':28}{'p50 ms':>10}{'ratio':>10}")
    print(f"{'hand-written SQL (baseline)':28}{base:>10.2f}{1:>10.2f}")
    print(f"{'segment (compiled JSONLogic)':28}{ours:>10.2f}{ours / base:>10.2f}")
    flat = full_peak <= small_peak * 1.5 + 16 * mib
    verdicts = {
        f"import >= {TARGET_RATE:,} rows/s": import_rate >= TARGET_RATE,
        "flat memory (10x the rows, peak within 1.5x + 16 MiB)": flat,
        f"segment listing <= {TARGET_RATIO}x hand-written SQL": ours <= base * TARGET_RATIO,
    }
    print()
    for name, met in verdicts.items():
        print(f"  {'met    ' if met else 'MISSED '} {name}")
    return 0 if all(verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
