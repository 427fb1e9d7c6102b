"""The service started for real, as separate processes on the test database and Redis:
gunicorn with the production settings (:class:`WebProcess`), and the RQ worker and the
event relay beside it (:class:`ServiceProcess`)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def environment(config, **environ: str) -> dict[str, str]:
    """A child process's environment on the test database, Redis and mailbox."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "FLASK_APP": "wsgi",
        "TURUMBA_DATABASE_URL": config.database_url,
        "TURUMBA_REDIS_URL": config.redis_url,
        "TURUMBA_JWT_PRIVATE_KEY": config.jwt_private_key,
        "TURUMBA_PUBLIC_URL": config.public_url,
        "TURUMBA_SMTP_URL": config.smtp_url,
        "TURUMBA_LOG_LEVEL": "WARNING",
        **environ,
    }


class ServiceProcess:
    """``<command> <args>`` from the virtualenv (``flask``: the worker, the event relay)
    until :meth:`stop`, its output kept for when a test fails."""

    def __init__(self, config, *args: str, command: str = "flask", **environ: str) -> None:
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by stop())
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / command), *args],
            env=environment(config, **environ),
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()[-4000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def api(url: str, member, method: str, path: str, body: dict, timeout: float = 10) -> dict:
    """A request to a real web process, as ``member`` in their account."""
    request = urllib.request.Request(
        f"{url}/v1/accounts/{member.account_id}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {member.token}", "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        return json.loads(answer.read())


class WebProcess(ServiceProcess):
    """``gunicorn`` serving the app on a free port; ``environ`` overrides settings
    (``TURUMBA_ACCESS_TOKEN_TTL="5"``, …)."""

    def __init__(self, config, **environ: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            config,
            *("-c", "python:core.gunicorn_conf", "wsgi:app"),
            command="gunicorn",
            TURUMBA_HOST="127.0.0.1",
            TURUMBA_PORT=str(self.port),
            TURUMBA_WEB_PROCESSES="1",
            TURUMBA_THREADS="16",  # a websocket holds a thread while it is open
            **environ,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the web process did not start:\n{self.output()}")
