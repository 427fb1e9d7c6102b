"""Real web processes (gunicorn, the production settings) on the test database and
Redis, and real Socket.IO clients connected to them."""

from __future__ import annotations

import contextlib
import threading

import pytest
import socketio

from tests.live import WebProcess


@pytest.fixture(scope="session")
def web(app, config):
    """Two web processes sharing the database and Redis."""
    processes = [WebProcess(config), WebProcess(config)]
    yield processes
    for process in processes:
        process.stop()


class Listener:
    """A Socket.IO client that keeps every push it hears."""

    def __init__(self) -> None:
        self.client = socketio.Client(reconnection=False)
        self.heard: list[tuple[str, dict]] = []
        self.refusal = None
        self.dropped = False
        self._arrived = threading.Condition()
        self.client.on("*", self._keep)
        self.client.on("connect_error", self._refused)
        self.client.on("disconnect", self._dropped)

    def _keep(self, event, data=None) -> None:
        with self._arrived:
            self.heard.append((event, data))
            self._arrived.notify_all()

    def _refused(self, data) -> None:
        with self._arrived:
            self.refusal = data
            self._arrived.notify_all()

    def _dropped(self, *reason) -> None:
        with self._arrived:
            self.dropped = True
            self._arrived.notify_all()

    def wait_dropped(self, timeout: float = 10) -> None:
        """Wait until the connection is closed (fails after ``timeout`` seconds)."""
        with self._arrived:
            self._arrived.wait_for(lambda: self.dropped, timeout=timeout)
        assert self.dropped and not self.client.connected

    def refused(self, url: str, member, **auth) -> dict:
        """Try to connect; what the server's refusal said (fails if it admitted us)."""
        with contextlib.suppress(socketio.exceptions.ConnectionError):
            self.connect(url, member, **auth)
        with self._arrived:
            self._arrived.wait_for(lambda: self.refusal is not None, timeout=10)
        assert self.refusal is not None and not self.client.connected
        return self.refusal["data"]

    def connect(self, url: str, member, **auth) -> Listener:
        credentials = {"token": member.token, "account_id": member.account_id, **auth}
        self.client.connect(url, auth=credentials, transports=["websocket"], wait_timeout=10)
        return self

    def wait_for(self, event: str, count: int = 1, timeout: float = 10) -> list[dict]:
        """The first ``count`` pushes named ``event`` (fails after ``timeout`` seconds)."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.named(event)) >= count, timeout=timeout)
        found = self.named(event)
        assert len(found) >= count, f"heard {[e for e, _ in self.heard]}"
        return found[:count]

    def named(self, event: str) -> list[dict]:
        return [data for name, data in self.heard if name == event]

    def accounts_heard(self) -> set[str]:
        """The accounts of everything heard (numbered pushes and plain ones alike)."""
        return {(data.get("data") or data)["account_id"] for _, data in self.heard}

    def call(self, event: str, data: dict) -> dict:
        return self.client.call(event, data, timeout=10)

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


@pytest.fixture
def listener():
    made: list[Listener] = []

    def make() -> Listener:
        made.append(Listener())
        return made[-1]

    yield make
    for one in made:
        one.close()
