"""Output schemas that several resources embed."""

from __future__ import annotations

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
