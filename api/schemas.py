"""Output schemas that several resources embed."""

from __future__ import annotations

import copy

import marshmallow as ma

from api.base import Schema


class UserOut(Schema):
    id = ma.fields.UUID(required=True)
    email = ma.fields.Email(required=True)
    name = ma.fields.String(required=True)
    created_at = ma.fields.AwareDateTime(required=True)


class AccountOut(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    slug = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["active", "suspended"]})
    plan = ma.fields.String(required=True)


class TokenOut(Schema):
    access_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "Seconds"})


class TokenPairOut(TokenOut):
    """What every way of logging in returns (``api.auth.issue_tokens``)."""

    refresh_token = ma.fields.String(
        required=True,
        metadata={"description": "Single use: exchange it at POST /v1/auth/refresh"},
    )
    refresh_expires_in = ma.fields.Integer(
        required=True, metadata={"description": "Seconds the refresh token stays valid"}
    )
    session_id = ma.fields.UUID(required=True)


def _all_optional(schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    fields = {}
    for key, field in schema._declared_fields.items():
        fields[key] = copy.copy(field)
        fields[key].required = False
    return Schema.from_dict(fields, name=name)


#: The token pair's fields, all optional: for answers that carry tokens only sometimes.
TokensIfIssued = _all_optional(TokenPairOut, "TokensIfIssued")
