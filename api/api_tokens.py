"""API tokens of the current account: create (secret shown once), list, revoke."""

from __future__ import annotations

import marshmallow as ma
from flask import g
from flask.views import MethodView

from api.auth import audit_change, require_verified, requires, tenant_blueprint
from api.base import Schema
from api.errors import fail
from identity.api_tokens import (
    NOT_FOR_TOKENS,
    ApiToken,
    InvalidScopes,
    create_token,
    get_token,
    revoke_token,
    tokens_of,
)
from identity.permissions import PERMISSIONS
from tenants.db import db, utcnow

blp = tenant_blueprint("api_tokens", __name__, "/api-tokens", description="API tokens")


class ApiTokenIn(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    scopes = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=64)),
        required=True,
        validate=ma.validate.Length(min=1, max=len(PERMISSIONS)),
        metadata={
            "description": "Permissions the token may use (GET /v1/permissions); at most "
            "your own, and never " + ", ".join(sorted(NOT_FOR_TOKENS)),
            "example": ["contacts:read"],
        },
    )
    expires_at = ma.fields.AwareDateTime(
        load_default=None, metadata={"description": "Optional; in the future"}
    )


class ApiTokenOut(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    prefix = ma.fields.String(
        required=True, metadata={"description": "The token's first characters, for display"}
    )
    scopes = ma.fields.List(ma.fields.String(), required=True)
    created_by = ma.fields.UUID(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.AwareDateTime(allow_none=True)
    last_used_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "Updated at most once a minute"}
    )


class CreatedApiTokenOut(ApiTokenOut):
    token = ma.fields.String(
        required=True,
        metadata={"description": "The secret: shown this once, store it now (Bearer tt_…)"},
    )


class ApiTokenList(Schema):
    items = ma.fields.List(ma.fields.Nested(ApiTokenOut), required=True)


def _public(token: ApiToken) -> dict:
    return {
        "name": token.name,
        "prefix": token.prefix,
        "scopes": list(token.scopes),
        "expires_at": token.expires_at,
    }


@blp.route("")
class ApiTokens(MethodView):
    @blp.response(200, ApiTokenList)
    @requires("api_tokens:manage")
    def get(self):
        """The account's live API tokens (never their secrets)"""
        return {"items": tokens_of(db.session, g.account.id)}

    @blp.arguments(ApiTokenIn)
    @blp.response(201, CreatedApiTokenOut)
    @requires("api_tokens:manage")
    def post(self, data):
        """Create an API token for this account; the secret is in this response only

        Refused with 403 `email_unverified` until the caller has verified their email.
        """
        user = require_verified()
        if data["expires_at"] is not None and data["expires_at"] <= utcnow():
            fail(422, "validation_failed", errors={"expires_at": ["must be in the future"]})
        try:
            token, secret = create_token(
                db.session,
                account_id=g.account.id,
                created_by=user.id,
                creator_permissions=g.permissions,
                **data,
            )
        except InvalidScopes as exc:
            fail(422, "validation_failed", errors={"scopes": exc.messages})
        audit_change("api_token", "created", token.id, after=_public(token))
        db.session.commit()
        return {**{name: getattr(token, name) for name in ApiTokenOut().fields}, "token": secret}


@blp.route("/<uuid:token_id>")
class ApiTokenById(MethodView):
    @blp.response(204)
    @requires("api_tokens:manage")
    def delete(self, token_id):
        """Revoke an API token (it stops working at once)"""
        token = get_token(db.session, account_id=g.account.id, token_id=token_id)
        if token is None:
            fail(404, "api_token_not_found", "No such API token.")
        revoke_token(db.session, token)
        audit_change(
            "api_token",
            "revoked",
            token.id,
            before=_public(token),
            after={"revoked_at": token.revoked_at},
        )
        db.session.commit()
