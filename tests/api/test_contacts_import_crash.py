"""A contact import survives its worker: a real ``flask worker`` is killed in the middle
of a batch, its lease runs out, and another worker carries on from the checkpoint with
every row imported exactly once. Also: cancelling a running import, and giving up on
one whose runs keep dying."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from crm.imports import runner
from crm.imports.models import ContactImport
from crm.models import Contact
from events.timers import fire_due
from tenants.db import utcnow
from tenants.registry import registry
from tenants.session import tenant_session
from tests.api.test_contacts_import import call, uploaded

ROOT = Path(__file__).resolve().parents[2]
BATCH = 50
ROWS = 3000
#: The first rows are unique; the others repeat their emails (in-file duplicates, skipped).
UNIQUE = 2500


def _content() -> str:
    rows = [f"Person {n},person{n % UNIQUE}@example.com" for n in range(ROWS)]
    return "name,email\n" + "\n".join(rows) + "\n"


class Worker:
    """``flask worker`` in a process of its own, on the test database and Redis."""

    def __init__(self, config, *args: str) -> None:
        environ = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "FLASK_APP": "wsgi",
            "TURUMBA_DATABASE_URL": config.database_url,
            "TURUMBA_REDIS_URL": config.redis_url,
            "TURUMBA_JWT_PRIVATE_KEY": config.jwt_private_key,
            "TURUMBA_LOG_LEVEL": "WARNING",
            "TURUMBA_IMPORT_BATCH_SIZE": str(BATCH),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "worker", *args, "low"],
            env=environ,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def wait(self, timeout: float = 60) -> None:
        _, errors = self.process.communicate(timeout=timeout)
        assert self.process.returncode == 0, errors.decode()[-4000:]


def _until(condition: Callable[[], object], timeout: float = 30) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError("waited in vain")


def _connect(database_url, **kwargs) -> psycopg.Connection:
    url = make_url(database_url).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), **kwargs)


@pytest.fixture
def holder(database_url):
    """A connection of the test's own, outside the app, to hold a lock."""
    with _connect(database_url) as conn:
        yield conn


@pytest.fixture
def observer(database_url):
    """Another, answering each question afresh (a transaction would keep its first view
    of ``pg_stat_activity``)."""
    with _connect(database_url, autocommit=True) as conn:
        yield conn


def _state(app, account_id: str, import_id: str) -> ContactImport:
    with app.app_context(), tenant_session(registry().get(uuid.UUID(account_id))) as session:
        found = session.get(ContactImport, uuid.UUID(import_id))
        session.expunge(found)
        return found


def _emails(app, account_id: str) -> list[tuple[str, int]]:
    with app.app_context(), tenant_session(registry().get(uuid.UUID(account_id))) as session:
        return session.execute(
            select(Contact.email, func.count()).group_by(Contact.email).order_by(Contact.email)
        ).all()


def _hold_the_lease(holder, import_id: str) -> None:
    """Lock the import's pending timer: the worker's next batch, having written its
    contacts and checkpoint, waits to push the lease forward, uncommitted."""
    holder.execute(
        "SELECT 1 FROM public.timers WHERE kind = %s AND subject_id = %s AND fired_at IS NULL"
        " FOR UPDATE",
        (runner.TIMER, uuid.UUID(import_id)),
    )


def _waiting(observer) -> list[int]:
    """The backends waiting on a lock (behind the test's)."""
    return [
        pid
        for (pid,) in observer.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        )
    ]


def _alive(observer, pids: list[int]) -> bool:
    found = observer.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,))
    return found.fetchone()[0] > 0


def _started(client, account, app, config) -> tuple[dict, Worker]:
    found = uploaded(client, account, _content())
    assert call(client, account, "post", found["id"], "/start").status_code == 202
    worker = Worker(config, "--burst")
    _until(lambda: _state(app, account.account_id, found["id"]).rows_done >= 4 * BATCH)
    return found, worker


@pytest.mark.slow
def test_a_worker_killed_mid_batch_is_replaced_and_no_row_is_imported_twice(
    app, config, client, account, holder, observer
):
    found, worker = _started(client, account, app, config)
    _hold_the_lease(holder, found["id"])
    (backend,) = _until(lambda: _waiting(observer))
    (waiting_on,) = observer.execute(
        "SELECT query FROM pg_stat_activity WHERE pid = %s", (backend,)
    ).fetchone()
    assert waiting_on.startswith("INSERT INTO public.timers")  # the batch's last statement
    worker.kill()  # mid-batch: its contacts and checkpoint written, not committed
    holder.rollback()  # its backend goes on, finds its client gone, and rolls back
    _until(lambda: not _alive(observer, [backend]))

    stopped = _state(app, account.account_id, found["id"])
    assert stopped.status == "running"
    assert 0 < stopped.rows_done < ROWS and stopped.rows_done % BATCH == 0
    assert stopped.created == len(_emails(app, account.account_id)) == stopped.rows_done

    with app.app_context():  # nothing happens while the lease lasts...
        fire_due(limit=10_000)
    assert _state(app, account.account_id, found["id"]).rows_done == stopped.rows_done
    with app.app_context():  # ...then its timer queues the job again
        fire_due(limit=10_000, now=utcnow() + runner.LEASE + timedelta(seconds=1))
    Worker(config, "--burst").wait()

    done = _state(app, account.account_id, found["id"])
    assert done.status == "completed"
    assert (done.rows_done, done.created, done.skipped) == (ROWS, UNIQUE, ROWS - UNIQUE)
    emails = _emails(app, account.account_id)
    assert len(emails) == UNIQUE
    assert {count for _, count in emails} == {1}


@pytest.mark.slow
def test_a_running_import_cancelled_stops_after_the_batch_in_progress(
    app, config, client, account, holder, observer
):
    found, worker = _started(client, account, app, config)
    _hold_the_lease(holder, found["id"])
    _until(lambda: _waiting(observer))
    answers = []
    cancelling = threading.Thread(
        target=lambda: answers.append(call(client, account, "post", found["id"], "/cancel"))
    )
    cancelling.start()  # it waits for the batch in progress
    _until(lambda: len(_waiting(observer)) == 2)
    holder.rollback()
    cancelling.join(30)
    (answer,) = answers
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "cancelled"
    worker.wait()  # the run stops at its next batch, and the burst worker ends

    done = _state(app, account.account_id, found["id"])
    assert done.status == "cancelled"
    assert done.rows_done == answer.json["rows_done"] < ROWS
    assert len(_emails(app, account.account_id)) == done.created == done.rows_done


def test_an_import_whose_runs_keep_dying_fails_and_may_resume(app, client, account, run_jobs):
    found = uploaded(client, account, "name\nAda\nBob\n")
    call(client, account, "post", found["id"], "/start")
    with app.app_context():
        account_record = registry().get(uuid.UUID(account.account_id))
        with tenant_session(account_record) as session:  # as after five runs died
            contact_import = session.get(ContactImport, uuid.UUID(found["id"]))
            contact_import.status, contact_import.attempts = "running", runner.MAX_ATTEMPTS
        fire_due(limit=10_000, now=utcnow() + runner.LEASE + timedelta(seconds=1))
    failed = call(client, account, "get", found["id"]).json
    assert failed["status"] == "failed"
    assert failed["error"] == "Given up after 5 runs ended without progress."

    resumed = call(client, account, "post", found["id"], "/resume")
    assert resumed.status_code == 202, resumed.json
    assert (resumed.json["status"], resumed.json["error"]) == ("queued", None)
    run_jobs()
    done = call(client, account, "get", found["id"]).json
    assert (done["status"], done["created"]) == ("completed", 2)


def test_a_resume_beside_a_live_run_imports_nothing_twice(app, client, account, run_jobs):
    found = uploaded(
        client, account, "name,email\n" + "\n".join(f"P{n},p{n}@example.com" for n in range(30))
    )
    call(client, account, "post", found["id"], "/start")
    assert call(client, account, "post", found["id"], "/resume").status_code == 202
    run_jobs()  # two jobs for one import: the second finds it done
    done = call(client, account, "get", found["id"]).json
    assert (done["status"], done["created"], done["rows_done"]) == ("completed", 30, 30)
    assert len(_emails(app, account.account_id)) == 30


def test_a_contact_written_meanwhile_by_someone_else_is_matched_not_duplicated(
    app, client, account, holder, observer
):
    found = uploaded(client, account, "name,email\nAda,ada@example.com\nBob,bob@example.com\n")
    call(client, account, "post", found["id"], "/start")
    with app.app_context():
        account_record = registry().get(uuid.UUID(account.account_id))
    holder.execute(  # somebody else's contact, not committed yet: the import cannot see it
        f'INSERT INTO "{account_record.schema_name}".contacts '
        "(id, name, email, custom_fields, created_at, updated_at) "
        "VALUES (%s, 'Other Ada', 'ada@example.com', '{}', now(), now())",
        (uuid.uuid4(),),
    )
    statuses = []

    def run() -> None:
        with app.app_context():
            statuses.append(runner.run_import(account_record, uuid.UUID(found["id"])))

    running = threading.Thread(target=run)
    running.start()
    _until(lambda: _waiting(observer))  # its insert waits on the other's email
    holder.commit()  # the insert fails on the unique index; the batch is planned again
    running.join(30)
    assert statuses == ["completed"]
    done = call(client, account, "get", found["id"]).json
    assert (done["created"], done["skipped"]) == (1, 1)
    assert _emails(app, account.account_id) == [("ada@example.com", 1), ("bob@example.com", 1)]


READING_FOREVER = """
import time
from crm.imports.rows import Reader, read_batches

def batches():
    while True:
        yield [(2, ["Ada"])] * 100

if __name__ == "__main__":
    reader = Reader(["name"], {"name": "name"}, {}, region=None)
    for _ in read_batches(reader, batches(), processes=2):
        print("read", flush=True)
        time.sleep(0.05)
"""


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _gone(pids: set[int]) -> bool:
    return not any(Path(f"/proc/{pid}").exists() for pid in pids)


def test_reader_processes_end_with_a_killed_worker(tmp_path):
    script = tmp_path / "reading.py"
    script.write_text(READING_FOREVER)
    reading = subprocess.Popen(
        [sys.executable, str(script)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
    )
    assert reading.stdout.readline() == b"read\n"  # its reader processes work
    readers = _children(reading.pid)
    assert len(readers) >= 2
    reading.send_signal(signal.SIGKILL)
    reading.wait(10)
    _until(lambda: _gone(readers))
