"""What every benchmark needs: a throw-away database, an app on it, a signing key.

Environment: ``TURUMBA_BENCH_DATABASE_URL`` (a maintenance database to create the bench
database in) and ``TURUMBA_BENCH_REDIS_URL``; both default to the test servers'
variables, then to the machine's local PostgreSQL and Redis.

Also: accounts provisioned in bulk (:func:`provision`), the real server, gunicorn with
the production settings, on the bench database (:func:`serve`), and any other of the
project's processes (``flask worker``...) on it (:func:`environment`, :func:`process`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import insert
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
# First on the path: the project's packages win over the benchmarks named after them
# (``bench/automation.py`` is not the ``automation`` package).
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from core.config import Config  # noqa: E402
from core.keys import generate_signing_key  # noqa: E402
from crm.models import Contact  # noqa: E402
from helpdesk.models import Channel, Conversation  # noqa: E402
from identity.models import User  # noqa: E402
from identity.sessions import AuthSession  # noqa: E402
from migrations import tenant_head  # noqa: E402
from provisioning.ddl import tenant_schema_script  # noqa: E402
from provisioning.fleet import upgrade_public  # noqa: E402
from tenants.db import db, utcnow  # noqa: E402
from tenants.models import Account, AccountStatus, Membership, Role  # noqa: E402
from tenants.naming import schema_for  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"


def _env(*names: str, default: str) -> str:
    return next((os.environ[name] for name in names if os.environ.get(name)), default)


@contextmanager
def bench_app(**overrides) -> Iterator:
    """An app (inside its context) on a fresh, migrated database that is dropped afterwards."""
    maintenance = make_url(
        _env(
            "TURUMBA_BENCH_DATABASE_URL", "TURUMBA_TEST_DATABASE_URL", default=DEFAULT_DATABASE_URL
        )
    )
    admin_url = maintenance.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"turumba_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        config = Config.from_env(
            {},
            database_url=maintenance.set(database=name).render_as_string(hide_password=False),
            redis_url=_env(
                "TURUMBA_BENCH_REDIS_URL", "TURUMBA_TEST_REDIS_URL", default=DEFAULT_REDIS_URL
            ),
            jwt_private_key=generate_signing_key(),
            log_level="WARNING",
            **overrides,
        )
        app = create_app(config)
        with app.app_context():
            upgrade_public(db.engine)
            try:
                yield app
            finally:
                db.session.remove()
                db.engine.dispose()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def provision(engine, count: int, batch: int = 25) -> list[dict]:
    """``count`` accounts with their schemas, many per transaction (setup, not measured).

    Returns the registry rows written (``id``, ``schema_name``, ...).
    """
    head = tenant_head()
    accounts: list[dict] = []
    for start in range(0, count, batch):
        rows = []
        for index in range(start, min(start + batch, count)):
            account_id = uuid.uuid4()
            rows.append(
                {
                    "id": account_id,
                    "name": f"Bench {index}",
                    "slug": f"bench-{index}",
                    "schema_name": schema_for(account_id),
                    "status": AccountStatus.ACTIVE,
                    "plan": "free",
                    "schema_revision": head,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(Account.__table__), rows)
            script = ";\n".join(tenant_schema_script(row["schema_name"]) for row in rows)
            conn.exec_driver_sql(script)
        accounts.extend(rows)
    return accounts


def add_agents(conn, members: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]) -> None:
    """``(account, user, auth session)``: each user, verified, an agent of the account,
    with a live session (the bench issues tokens for it and never logs in)."""
    now = utcnow()
    conn.execute(
        insert(User.__table__),
        [
            {
                "id": user_id,
                "email": f"agent-{user_id.hex}@bench.example",
                "name": "Agent",
                "password_hash": "unused: the bench never logs in",
                "email_verified_at": now,
            }
            for _, user_id, _ in members
        ],
    )
    conn.execute(
        insert(Membership.__table__),
        [
            {"account_id": account_id, "user_id": user_id, "role": Role.AGENT}
            for account_id, user_id, _ in members
        ],
    )
    conn.execute(
        insert(AuthSession.__table__),
        [{"id": session_id, "user_id": user_id} for _, user_id, session_id in members],
    )


def add_desk(conn, schema_name: str, conversations: int) -> list[uuid.UUID]:
    """An in-app channel and a contact in the account's schema, with ``conversations``
    conversations between them; their ids."""
    tenant = conn.execution_options(schema_translate_map={None: schema_name})
    channel_id, contact_id = uuid.uuid4(), uuid.uuid4()
    tenant.execute(insert(Channel).values(id=channel_id, type="in_app", name="Chat"))
    tenant.execute(insert(Contact).values(id=contact_id, name="Customer"))
    conversation_ids = [uuid.uuid4() for _ in range(conversations)]
    tenant.execute(
        insert(Conversation),
        [
            {"id": cid, "channel_id": channel_id, "contact_id": contact_id}
            for cid in conversation_ids
        ],
    )
    return conversation_ids


def settle(busy: Callable[[], bool], timeout: float) -> None:
    """Until ``busy()`` says no three checks in a row (fails after ``timeout`` seconds)."""
    deadline, quiet = time.monotonic() + timeout, 0
    while quiet < 3:
        if time.monotonic() > deadline:
            raise TimeoutError("the system did not settle")
        quiet = 0 if busy() else quiet + 1
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pids: Iterable[int], *, reaped: bool = False) -> float:
    """User + system CPU time the processes ``pids`` have used so far (gone ones: 0).

    ``reaped``: with that of their children that have exited and been waited for (the
    processes a forking RQ worker runs each job in).
    """
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        # utime, stime (fields 14, 15), then cutime, cstime (16, 17)
        total += sum(int(value) for value in fields[11 : 15 if reaped else 13])
    return total / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return found


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def workers(self) -> list[int]:
        return children(self.pid)


def environment(app, **env: str) -> dict[str, str]:
    """The environment of a child process (server, worker, relay) on the bench app's
    database and Redis; ``env`` overrides ``TURUMBA_*`` variables."""
    config = app.extensions["turumba.config"]
    return {
        **os.environ,
        "FLASK_APP": "wsgi",
        "PYTHONPATH": str(ROOT),  # the checkout the bench runs from
        "TURUMBA_DATABASE_URL": config.database_url,
        "TURUMBA_REDIS_URL": config.redis_url,
        "TURUMBA_JWT_PRIVATE_KEY": config.jwt_private_key,
        "TURUMBA_ACCESS_TOKEN_TTL": str(config.access_token_ttl),
        **env,
    }


def command(name: str) -> str:
    """The path of one of the virtualenv's commands (``flask``, ``gunicorn``)."""
    return str(Path(sys.executable).parent / name)


@contextmanager
def process(args: list[str], environ: dict[str, str], name: str) -> Iterator[tuple]:
    """Run ``args`` from the project's root until the block ends (yields the process and
    its log file). The log goes to a file, printed if the block fails."""
    with tempfile.NamedTemporaryFile("w+", prefix=f"turumba-bench-{name}-", suffix=".log") as log:
        child = subprocess.Popen(args, env=environ, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield child, log
        except BaseException:
            log.seek(0)
            print(f"the {name}'s log ends:\n{log.read()[-6000:]}", file=sys.stderr)
            raise
        finally:
            child.terminate()
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


@contextmanager
def serve(app, **env: str) -> Iterator[Server]:
    """The real server on the bench app's database and Redis (yields its URL and pid).

    gunicorn runs with the production settings (:mod:`core.gunicorn_conf`); ``env``
    overrides ``TURUMBA_*`` variables (``TURUMBA_WEB_PROCESSES="2"``...).
    """
    port = _free_port()
    environ = environment(app, TURUMBA_HOST="127.0.0.1", TURUMBA_PORT=str(port), **env)
    base = f"http://127.0.0.1:{port}"
    gunicorn = [command("gunicorn"), "-c", "python:core.gunicorn_conf", "wsgi:app"]
    with process(gunicorn, environ, "server") as (server, log):
        _wait_ready(base, server, log)
        yield Server(base, server.pid)


def _wait_ready(base: str, server: subprocess.Popen, log, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    log.seek(0)
    raise RuntimeError(f"the server did not start:\n{log.read()[-4000:]}")
