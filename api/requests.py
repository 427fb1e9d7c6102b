"""Per-request plumbing: request ids, the access log line, and refusing non-JSON bodies
(but the files of the views marked :func:`accepts_upload`).

Request ids: a client may send ``X-Request-ID`` (1-128 characters of ``A-Z a-z 0-9 . _ :
-``); anything else, or nothing, gets a fresh one. The id is echoed in the response
header, put in every error body and carried by every log line written while the
request runs (:data:`core.logging.request_id_var`).

Access log: exactly one line per request on the ``turumba.access`` logger, with
``method``, ``path``, ``status``, ``ms`` (duration), ``account`` (the account named in
the path, also when access to it was refused), ``user`` (once a token was verified)
and ``request_id``.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, g, request

from api.errors import fail
from core.logging import request_id_var

access_log = logging.getLogger("turumba.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _start() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _SAFE_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_token = request_id_var.set(g.request_id)
    g.started = time.perf_counter()


#: The attribute :func:`accepts_upload` leaves on a view: its body limit, a callable.
UPLOAD_LIMIT = "upload_limit"
UPLOAD_TYPES = ("multipart/form-data", "text/csv")


def request_handler() -> Any:
    """The function that will answer this request (a MethodView's method), or None."""
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    if view_class is None:
        return view
    method = request.method.lower()
    handler = getattr(view_class, method, None)
    if handler is None and method == "head":
        handler = getattr(view_class, "get", None)
    return handler


def accepts_upload(limit: Callable[[], int]):
    """Let a view take a file, as ``multipart/form-data`` or a raw ``text/csv`` body,
    instead of JSON, of up to ``limit()`` bytes: its own limit, over
    ``TURUMBA_MAX_CONTENT_LENGTH`` (werkzeug counts as it reads, so a body without a
    length is held to it too)."""

    def decorator(view):
        setattr(view, UPLOAD_LIMIT, limit)
        return view

    return decorator


def _refuse_non_json() -> None:
    has_body = bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    )
    if request.method not in _BODY_METHODS or not has_body or request.is_json:
        return
    limit = getattr(request_handler(), UPLOAD_LIMIT, None)
    if limit is None:
        fail(415, message="Send the body as application/json.")
    if request.mimetype not in UPLOAD_TYPES:
        fail(415, message="Send the file as multipart/form-data (field `file`) or text/csv.")
    request.max_content_length = limit()


def _finish(response):
    response.headers["X-Request-ID"] = g.get("request_id", "")
    account = g.get("account")
    account_id = account.id if account is not None else g.get("account_id")
    access_log.info(
        "request",
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
            "account": str(account_id) if account_id else None,
            "user": str(g.user_id) if g.get("user_id") else None,
            "request_id": g.get("request_id"),
        },
    )
    return response


def _teardown(exc) -> None:
    token = g.pop("request_token", None)
    if token is not None:
        request_id_var.reset(token)


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.before_request(_refuse_non_json)
    app.after_request(_finish)
    app.teardown_request(_teardown)
