"""What ``python3 dev.py run`` and ``python3 dev.py test`` do once the virtualenv exists.

``run``: the browser console built (:mod:`core.console`), embedded PostgreSQL and Valkey
under ``.data/`` unless ``TURUMBA_DATABASE_URL`` / ``TURUMBA_REDIS_URL`` are set,
migrations, gunicorn (gthread, Socket.IO capable) and one RQ worker and the event relay;
Ctrl-C stops every child it started.

``test``: the browser console built and Chromium found (or installed) for its end-to-end
tests, the same embedded servers unless ``TURUMBA_TEST_DATABASE_URL`` /
``TURUMBA_TEST_REDIS_URL`` are set, then pytest with branch coverage (the console's own
Vitest suite runs as one of its tests). pytest's "no tests collected" (exit 5) counts as a
failure.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core import console
from core.embedded import ensure_signing_key, start_postgres, start_valkey

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _data_dir() -> Path:
    return Path(os.environ.get("TURUMBA_DATA_DIR", ROOT / ".data")).resolve()


def _console(*, with_browser: bool = False) -> dict[str, str] | None:
    """Build the console (and find Chromium); the environment to add, or None on failure."""
    try:
        console.build()
        return {"TURUMBA_CHROMIUM": console.browser()} if with_browser else {}
    except console.BuildError as exc:
        print(f"console: {exc}", file=sys.stderr, flush=True)
        return None


def run() -> int:
    if _console() is None:
        return 1
    data = _data_dir()
    env = dict(os.environ)
    stops = []
    if not env.get("TURUMBA_DATABASE_URL"):
        stop, env["TURUMBA_DATABASE_URL"] = start_postgres(data)
        stops.append(stop)
    if not env.get("TURUMBA_REDIS_URL"):
        stop, env["TURUMBA_REDIS_URL"] = start_valkey(data, persist=True)
        stops.append(stop)
    if not (env.get("TURUMBA_JWT_PRIVATE_KEY") or env.get("TURUMBA_JWT_PRIVATE_KEY_FILE")):
        env["TURUMBA_JWT_PRIVATE_KEY_FILE"] = str(ensure_signing_key(data))
    if not env.get("TURUMBA_SMTP_URL"):
        env["TURUMBA_SMTP_URL"] = f"file://{data / 'outbox'}"
    env["FLASK_APP"] = "wsgi"
    host = env.get("TURUMBA_HOST", "127.0.0.1")
    port = env.get("TURUMBA_PORT", "8000")
    children: list[subprocess.Popen] = []
    try:
        flask = str(BIN / "flask")
        subprocess.run([flask, "tenants", "migrate"], env=env, check=True, cwd=ROOT)
        spares = env.get("TURUMBA_SPARE_SCHEMAS", "3")
        subprocess.run(
            [flask, "tenants", "spares", "--fill", spares], env=env, check=True, cwd=ROOT
        )
        children.append(
            subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--config",
                    "python:core.gunicorn_conf",  # production's settings; binds host:port
                    "--control-socket",
                    str(data / "gunicorn.ctl"),
                    "wsgi:app",
                ],
                env=env,
                cwd=ROOT,
            )
        )
        children.append(subprocess.Popen([flask, "worker"], env=env, cwd=ROOT))
        children.append(subprocess.Popen([flask, "events", "relay"], env=env, cwd=ROOT))
        print(f"\nTurumba is running at http://{host}:{port}/  (API docs: /docs)", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        signal.signal(signal.SIGTERM, _interrupt)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        return next(child.returncode for child in children if child.poll() is not None) or 1
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(children)
        for stop in reversed(stops):
            stop()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _stop(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def test(args: list[str]) -> int:
    added = _console(with_browser=True)
    if added is None:
        return 1
    data = _data_dir()
    env = {**os.environ, **added}
    stops = []
    if not env.get("TURUMBA_TEST_DATABASE_URL"):
        stop, env["TURUMBA_TEST_DATABASE_URL"] = start_postgres(data, database="postgres")
        stops.append(stop)
    if not env.get("TURUMBA_TEST_REDIS_URL"):
        stop, env["TURUMBA_TEST_REDIS_URL"] = start_valkey(data / "test", persist=False)
        stops.append(stop)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--cov",
        "--cov-branch",
        "--cov-report=term-missing:skip-covered",
        "--cov-fail-under=80",
        *args,
    ]
    try:
        code = subprocess.run(command, env=env, cwd=ROOT).returncode
    finally:
        for stop in reversed(stops):
            stop()
    return 1 if code == 5 else code


def main(argv: list[str]) -> int:
    if argv[:1] == ["run"]:
        return run()
    if argv[:1] == ["test"]:
        return test(argv[1:])
    print("usage: python -m core.devserver run|test [pytest arguments]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
