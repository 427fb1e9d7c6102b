"""Request ids, the structured access log, and log lines carrying the request id."""

from __future__ import annotations

import json
import logging
import re

import pytest
from flask import current_app

from core.logging import JsonFormatter

GENERATED = re.compile(r"^[0-9a-f]{32}$")


class JsonLines(logging.Handler):
    """Formats records exactly as production does and keeps the parsed JSON."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def access(self) -> list[dict]:
        return [line for line in self.lines if line["logger"] == "turumba.access"]


@pytest.fixture
def logs():
    handler = JsonLines()
    root = logging.getLogger()
    turumba = logging.getLogger("turumba")
    previous = turumba.level
    root.addHandler(handler)
    turumba.setLevel(logging.INFO)
    yield handler
    turumba.setLevel(previous)
    root.removeHandler(handler)


# Request ids


@pytest.mark.parametrize("value", ["abc-123", "req_1.2:3", "A" * 128])
def test_a_safe_request_id_is_echoed(client, value):
    response = client.get("/health", headers={"X-Request-ID": value})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == value


def test_a_request_id_is_generated_when_absent_and_differs_per_request(client):
    first = client.get("/health").headers["X-Request-ID"]
    second = client.get("/health").headers["X-Request-ID"]
    assert GENERATED.match(first) and GENERATED.match(second)
    assert first != second


@pytest.mark.parametrize(
    "value",
    ["two words", "A" * 129, "semi;colon", "<script>", "caf\u00e9", "line\nbreak", ""],
    ids=["space", "too-long", "semicolon", "markup", "non-ascii", "newline", "empty"],
)
def test_an_unsafe_request_id_is_replaced(client, value):
    # Through the WSGI environ: the test client itself refuses some of these headers.
    response = client.get("/v1/nope", environ_base={"HTTP_X_REQUEST_ID": value})
    generated = response.headers["X-Request-ID"]
    assert GENERATED.match(generated)
    assert response.json["request_id"] == generated


def test_error_bodies_carry_the_callers_request_id(client, account):
    response = client.get(account.url("/contacts"), headers={"X-Request-ID": "trace-42"})
    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "trace-42"
    assert response.json["request_id"] == "trace-42"


# The access log


def test_exactly_one_access_line_per_request_with_its_fields(client, account, logs):
    client.get("/health", headers={"X-Request-ID": "plain-1"})
    client.get(account.url("/contacts"), headers={**account.headers, "X-Request-ID": "tenant-1"})
    client.get("/v1/nope", headers={"X-Request-ID": "missing-1"})
    client.post(
        "/v1/auth/login", data="x", content_type="text/plain", headers={"X-Request-ID": "refused-1"}
    )
    lines = logs.access()
    assert [line["request_id"] for line in lines] == [
        "plain-1",
        "tenant-1",
        "missing-1",
        "refused-1",
    ]
    plain, tenant, missing, refused = lines
    for line in lines:
        assert {"method", "path", "status", "ms", "account", "user", "request_id"} <= set(line)
        assert isinstance(line["ms"], int | float) and line["ms"] >= 0
        assert line["level"] == "info"
    assert (plain["method"], plain["path"], plain["status"]) == ("GET", "/health", 200)
    assert plain["account"] is None and plain["user"] is None
    assert tenant["path"] == f"/v1/accounts/{account.account_id}/contacts"
    assert (tenant["status"], tenant["account"], tenant["user"]) == (
        200,
        account.account_id,
        account.user_id,
    )
    assert (missing["status"], missing["path"]) == (404, "/v1/nope")
    assert (refused["method"], refused["status"]) == ("POST", 415)


def test_a_refused_tenant_request_logs_the_account_asked_for(client, account, other_account, logs):
    client.get(other_account.url(), headers=account.headers)
    (line,) = logs.access()
    assert line["status"] == 404
    assert line["account"] == other_account.account_id
    assert line["user"] == account.user_id


@pytest.fixture
def chatty_app(make_app):
    app = make_app()

    @app.get("/chatty")
    def chatty():
        current_app.logger.info("inside the view")
        logging.getLogger("turumba.somewhere").warning("deeper down")
        return {"ok": True}

    @app.get("/explode")
    def explode():
        raise ValueError("kaboom")

    return app


def test_log_lines_inside_a_request_carry_its_id(chatty_app, logs):
    client = chatty_app.test_client()
    client.get("/chatty", headers={"X-Request-ID": "chat-1"})
    client.get("/chatty")
    messages = [
        line for line in logs.lines if line["message"] in ("inside the view", "deeper down")
    ]
    assert len(messages) == 4
    assert [m["request_id"] for m in messages[:2]] == ["chat-1", "chat-1"]
    generated = logs.access()[1]["request_id"]
    assert GENERATED.match(generated)
    assert [m["request_id"] for m in messages[2:]] == [generated, generated]
    # Once the request is over, the id no longer sticks to log lines.
    logging.getLogger("turumba.after").warning("between requests")
    assert logs.lines[-1]["request_id"] is None


def test_a_crash_is_logged_with_traceback_and_request_id_and_one_access_line(chatty_app, logs):
    response = chatty_app.test_client().get("/explode", headers={"X-Request-ID": "crash-1"})
    assert response.status_code == 500
    crash = [line for line in logs.lines if line["level"] == "error"]
    assert len(crash) == 1
    assert crash[0]["request_id"] == "crash-1"
    assert "ValueError: kaboom" in crash[0]["exception"]
    (access,) = logs.access()
    assert (access["status"], access["request_id"]) == (500, "crash-1")


def test_extra_fields_are_added_but_cannot_replace_the_standard_ones(logs):
    logging.getLogger("turumba.worker").warning(
        "job %s done", "j1", extra={"level": "fake", "logger": "fake", "job": "j1"}
    )
    line = logs.lines[-1]
    assert (line["level"], line["logger"], line["message"]) == (
        "warning",
        "turumba.worker",
        "job j1 done",
    )
    assert line["job"] == "j1"
    assert line["request_id"] is None
    assert line["ts"].endswith("+00:00")
