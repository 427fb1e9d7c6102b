"""Liveness touches nothing; readiness checks PostgreSQL and Redis and names what failed."""

from __future__ import annotations

import socket

import pytest


def closed_port() -> int:
    """A loopback port nothing listens on (bound once by us, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def dead_redis() -> str:
    return f"redis://127.0.0.1:{closed_port()}/0"


def dead_database() -> str:
    return f"postgresql://postgres@127.0.0.1:{closed_port()}/turumba"


def test_liveness_is_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {"status": "ok"}


def test_liveness_touches_no_dependency(make_app):
    client = make_app(database_url=dead_database(), redis_url=dead_redis()).test_client()
    assert client.get("/health").json == {"status": "ok"}
    # The same app is not ready, so /health really did not ask either dependency.
    assert client.get("/health/ready").status_code == 503


def test_ready_when_postgres_and_redis_answer(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


@pytest.mark.parametrize(
    "overrides,failing",
    [
        (lambda: {"redis_url": dead_redis()}, {"redis"}),
        (lambda: {"database_url": dead_database()}, {"database"}),
        (
            lambda: {"redis_url": dead_redis(), "database_url": dead_database()},
            {"redis", "database"},
        ),
    ],
    ids=["redis-down", "database-down", "both-down"],
)
def test_not_ready_names_the_failing_dependency(make_app, overrides, failing):
    settings = overrides()
    response = make_app(**settings).test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    body = response.json
    assert body["code"] == "not_ready"
    assert body["status"] == 503
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert set(body["errors"]) == failing
    # Names the dependency, not its address or credentials.
    text = str({key: value for key, value in body.items() if key != "request_id"})
    for url in settings.values():
        assert url.rsplit(":", 1)[-1].split("/")[0] not in text
    assert "postgres@" not in text
