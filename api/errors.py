"""One JSON error envelope for every status, from one handler.

``{"code": "<stable machine code>", "message": "<for humans>", "status": 404,
"errors": {<field>: [<messages>]}, "request_id": "..."}``. ``errors`` appears only
when the problem concerns named fields (422, some 400/409/503) and is keyed by field,
never by where the field came from. A few errors add a documented key of their own
(``duplicate_of`` on a duplicate contact's 409, ``report`` on a refused bulk
operation, ``rules`` on a segment in use). Views raise errors with :func:`fail`; nothing
else builds error bodies: Flask's own errors (404, 405 with its ``Allow`` header,
413...), webargs' validation errors and unhandled exceptions all come through
:func:`error_body`. A 500 never shows what went wrong, only the request id that
finds the traceback in the logs.
"""

from __future__ import annotations

import http
from typing import Any, NoReturn

import marshmallow as ma
from flask import g
from flask_smorest import abort
from werkzeug.exceptions import HTTPException, InternalServerError

#: The ``code`` an error gets when the view did not name a more specific one.
DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ErrorSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "Stable machine code"})
    message = ma.fields.String(required=True, metadata={"description": "Human explanation"})
    status = ma.fields.Integer(required=True, metadata={"description": "HTTP status"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={"description": "Per-field messages, where the error concerns fields"},
    )
    request_id = ma.fields.String(metadata={"description": "Echo of X-Request-ID"})
    duplicate_of = ma.fields.String(
        metadata={"description": "On a duplicate's 409: the id of the record that has the value"}
    )
    report = ma.fields.Dict(
        metadata={
            "description": "On a refused all-or-nothing bulk operation: the per-item "
            "report, as `POST …/contacts/bulk` answers it (BatchReportOut)"
        }
    )
    rules = ma.fields.List(
        ma.fields.Dict(),
        metadata={
            "description": "On 409 `segment_in_use`: the automation rules that name the "
            "segment, each `{id, name}`"
        },
    )


def fail(
    status: int,
    code: str | None = None,
    message: str | None = None,
    *,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> NoReturn:
    """Answer ``status`` with the envelope; ``extra`` adds documented keys to the body
    (such as ``duplicate_of``)."""
    data: dict[str, Any] = {"code": code or DEFAULT_CODES.get(status, "error")}
    if message:
        data["message"] = message
    if errors:
        data["errors"] = errors
    if headers:
        data["headers"] = headers
    if extra:
        data["extra"] = extra
    abort(status, **data)


def _field_errors(data: dict[str, Any]) -> dict[str, Any] | None:
    errors = data.get("errors") or data.get("messages")
    if not errors:
        return None
    # webargs nests by location ({"json": {...}}); a single location is flattened.
    if isinstance(errors, dict) and len(errors) == 1:
        (location, inner), *_ = errors.items()
        if location in {"json", "query", "path", "headers", "form"} and isinstance(inner, dict):
            return inner
    return errors


#: All a client learns about an unexpected failure.
INTERNAL_MESSAGE = "Something went wrong on our side; the request id identifies it in our logs."


def error_body(error: HTTPException) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The envelope, status and headers for any ``HTTPException``."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    body: dict[str, Any] = {
        "code": data.get("code") or DEFAULT_CODES.get(status, "error"),
        "message": data.get("message") or error.description or http.HTTPStatus(status).phrase,
        "status": status,
    }
    errors = _field_errors(data)
    if errors:
        body["errors"] = errors
        if "message" not in data:
            body["message"] = "The request has invalid fields."
    if isinstance(error, InternalServerError):
        # Whatever the failure said (an exception, a fail(500, ...)) stays in the logs.
        body["message"] = INTERNAL_MESSAGE
        body.pop("errors", None)
    else:
        body.update(data.get("extra") or {})
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    headers = dict(data.get("headers") or {})
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(sorted(valid_methods))
    return body, status, headers
