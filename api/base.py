"""Project-wide subclasses of flask-smorest's ``Api``, ``Blueprint`` and marshmallow's ``Schema``.

Behaviour every endpoint shares has one home here: the error envelope, documented
error responses, security requirements, and strict input schemas.
"""

from __future__ import annotations

import flask_smorest
import marshmallow as ma
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls

from api.errors import ErrorSchema, error_body


def schema_name(schema) -> str:
    """Component names for the OpenAPI document; partial (PATCH) variants get their own."""
    cls = resolve_schema_cls(schema)
    name = cls.__name__.removesuffix("Schema")
    return f"{name}Patch" if getattr(schema, "partial", False) else name


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app=None) -> None:
        plugin = MarshmallowPlugin(schema_name_resolver=schema_name)
        super().__init__(app, spec_kwargs={"marshmallow_plugin": plugin})

    def handle_http_exception(self, error):
        return error_body(error)


class Blueprint(flask_smorest.Blueprint):
    def errors(self, *statuses: int):
        """Document the error responses an endpoint can return, all in the envelope."""

        def decorator(func):
            for status in statuses:
                func = self.alt_response(status, schema=ErrorSchema)(func)
            return func

        return decorator


class Schema(ma.Schema):
    """Unknown fields are an error, not silently dropped."""

    class Meta:
        unknown = ma.RAISE
