"""Project-wide subclasses of flask-smorest's ``Api``, ``Blueprint`` and marshmallow's ``Schema``.

Behaviour every endpoint shares has one home here: the error envelope, documented
error responses, security requirements, and strict input schemas.

Error responses are documented by rule, not by hand, so the OpenAPI document cannot
drift from what the code does (:class:`StandardErrors`):

- every operation that is not public (``@blp.doc(security=[])``) may answer 401;
- every operation under ``/v1/accounts/{account_id}`` may answer 401, 403 and 404
  (see :mod:`api.auth`); any other path parameter may answer 404;
- every operation that takes a JSON body may answer 400 (malformed JSON), 413, 415
  and 422; every operation with query arguments may answer 422.

Anything else an endpoint can answer (409, 429, 400 from the list grammar...) is
declared on the view with ``@blp.errors(...)``. All of them use the
:class:`~api.errors.ErrorSchema` envelope.
"""

from __future__ import annotations

import http
from typing import Any

import flask_smorest
import marshmallow as ma
from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask_smorest.utils import prepare_response
from webargs.flaskparser import FlaskParser

from api.errors import ErrorSchema, error_body, fail

#: The path parameter naming the active account (see :mod:`api.auth`).
ACCOUNT_PARAMETER = "account_id"
BODY_METHODS = frozenset({"post", "put", "patch"})

#: Better descriptions than the bare status phrase for the statuses we answer.
ERROR_DESCRIPTIONS = {
    400: "Malformed request: the body is not JSON, or a query argument is not understood",
    401: "No access token, or an invalid or expired one",
    403: "The account is suspended, or the caller's role does not allow this",
    404: "No such resource (or account) for this caller",
    405: "The method is not allowed on this path; see the Allow header",
    409: "Conflicts with the current state (a duplicate, usually)",
    413: "The body is larger than the configured maximum",
    415: "The body is not application/json",
    422: "The input failed validation; `errors` maps each field to its messages",
    429: "Too many attempts; see the Retry-After header",
    500: "Unexpected failure; quote the request id when reporting it",
    503: "A dependency is unavailable",
}
_RETRY_AFTER = {
    "description": "Seconds to wait before trying again",
    "schema": {"type": "integer"},
}
ERROR_HEADERS = {
    405: {"Allow": {"description": "The allowed methods", "schema": {"type": "string"}}},
    429: {"Retry-After": _RETRY_AFTER},
}


def response_name(status: int) -> str:
    """The ``components/responses`` entry documenting an error status."""
    return http.HTTPStatus(status).name


def schema_name(schema) -> str:
    """Component names for the OpenAPI document; partial (PATCH) variants get their own."""
    cls = resolve_schema_cls(schema)
    name = cls.__name__.removesuffix("Schema")
    return f"{name}Patch" if getattr(schema, "partial", False) else name


class StandardErrors(BasePlugin):
    """Adds the error responses every operation of a kind can return (see module doc)."""

    def operation_helper(self, path=None, operations=None, **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        arguments = set(rule.arguments) if rule is not None else set()
        for method, operation in (operations or {}).items():
            statuses: set[int] = set()
            if operation.get("security") != []:
                statuses.add(401)
            if ACCOUNT_PARAMETER in arguments:
                statuses.update((401, 403, 404))
            if arguments - {ACCOUNT_PARAMETER}:
                statuses.add(404)
            if method in BODY_METHODS and "requestBody" in operation:
                statuses.update((400, 413, 415, 422))
            parameters = [p for p in operation.get("parameters", []) if isinstance(p, dict)]
            if any(p.get("in") == "query" for p in parameters):
                statuses.add(422)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                responses.setdefault(str(status), response_name(status))


class Parser(FlaskParser):
    """webargs' parser, answering in our envelope with errors keyed by field, not location.

    Unknown query arguments are refused like unknown body fields (a typo such as
    ``?filters=`` or ``?perpage=`` must not silently return an unfiltered list).
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": None,
        "querystring": None,
    }

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        fail(400, "invalid_json", "The request body is not valid JSON.")

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages
        # webargs nests messages under the one location parsed: {"json": {...}}.
        if isinstance(messages, dict) and len(messages) == 1:
            (inner,) = messages.values()
            if isinstance(inner, dict):
                messages = inner
        if not isinstance(messages, dict):
            messages = {"_schema": messages}
        fail(
            error_status_code or self.DEFAULT_VALIDATION_STATUS,
            "validation_failed",
            "The request has invalid fields.",
            errors=messages,
            headers=error_headers,
        )


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app=None) -> None:
        plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
        super().__init__(
            app, spec_kwargs={"marshmallow_plugin": plugin, "extra_plugins": [StandardErrors()]}
        )

    def _register_responses(self) -> None:
        super()._register_responses()
        # Re-register the error responses we answer (same names, lazily): better text.
        for status, description in ERROR_DESCRIPTIONS.items():
            response: dict[str, Any] = {"description": description, "schema": self.ERROR_SCHEMA}
            if status in ERROR_HEADERS:
                response["headers"] = ERROR_HEADERS[status]
            prepare_response(response, self.spec, self.DEFAULT_RESPONSE_CONTENT_TYPE)
            self.spec.components.response(response_name(status), response, lazy=True)

    def handle_http_exception(self, error):
        return error_body(error)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def arguments(self, schema, **kwargs):
        """flask-smorest's ``arguments``, with the schema instantiated once, here.

        Given a class, webargs builds a new instance for every request, and marshmallow
        deep-copies every declared field to do so; schemas hold no per-call state, so one
        instance serves every request (and documents the same way).
        """
        if isinstance(schema, type):
            schema = schema()
        return super().arguments(schema, **kwargs)

    def errors(self, *statuses: int):
        """Document further error responses of an endpoint, all in the envelope.

        The statuses every endpoint of a kind can return are added automatically
        (:class:`StandardErrors`); list here only what is specific to this endpoint.
        """

        def decorator(func):
            for status in statuses:
                func = self.alt_response(status, response=response_name(status))(func)
            return func

        return decorator


class Schema(ma.Schema):
    """Unknown fields are an error, not silently dropped."""

    class Meta:
        unknown = ma.RAISE
