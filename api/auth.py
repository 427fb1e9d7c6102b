"""Who is calling, and on which account's behalf.

The active account is named by the path: every tenant resource lives under
``/v1/accounts/{account_id}/``. The caller must be a member. An unknown account, a
deleted one and somebody else's all answer the same 404, so the API is no oracle for
which accounts exist; a suspended account answers 403 to its own members only.
"""

from __future__ import annotations

import functools
import uuid

from flask import current_app, g, request

from api.base import Blueprint
from api.errors import fail
from identity.models import User
from identity.permissions import PERMISSIONS, permissions_of
from identity.service import role_in
from identity.tokens import InvalidToken, TokenIssuer
from tenants.db import db
from tenants.models import AccountStatus
from tenants.registry import registry
from tenants.scope import activate, deactivate

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="turumba"'}


def token_issuer() -> TokenIssuer:
    return current_app.extensions["turumba.tokens"]


def issue_tokens(user_id: uuid.UUID) -> dict:
    token, ttl = token_issuer().issue(user_id)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}


def authenticate() -> uuid.UUID:
    """The user id from a valid ``Authorization: Bearer`` access token, or a 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        fail(
            401,
            "unauthenticated",
            "Send an access token: Authorization: Bearer <token>.",
            headers=_CHALLENGE,
        )
    try:
        claims = token_issuer().verify(token.strip())
    except InvalidToken:
        fail(
            401,
            "invalid_token",
            "The access token is invalid or has expired; log in again.",
            headers={"WWW-Authenticate": 'Bearer realm="turumba", error="invalid_token"'},
        )
    g.user_id = claims.user_id
    return claims.user_id


def current_user() -> User:
    """The authenticated user's row, or a 401 when the token outlived the user."""
    user = db.session.get(User, authenticate())
    if user is None:
        fail(401, "invalid_token", "The user of this token no longer exists.")
    return user


def enter_account(account_id: uuid.UUID) -> None:
    user_id = authenticate()
    record = registry().get(account_id)
    if record is None or record.status is AccountStatus.DELETED:
        _no_such_account()
    g.tenant_token = activate(record.schema_name)
    role = role_in(db.session, account_id=account_id, user_id=user_id)
    if role is None:
        _no_such_account()
    if record.status is AccountStatus.SUSPENDED:
        fail(403, "account_suspended", "This account is suspended; contact support.")
    g.account = record
    g.role = role
    g.permissions = permissions_of(role)


def requires(permission: str):
    """Refuse the view with 403 unless the caller's role in the account grants ``permission``."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorator(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            if permission not in g.permissions:
                fail(
                    403,
                    "permission_denied",
                    f"Your role does not allow this; it needs the {permission!r} permission.",
                    errors={"permission": [permission]},
                )
            return view(*args, **kwargs)

        return guarded

    return decorator


def _no_such_account():
    fail(404, "account_not_found", "No such account.")


def leave_account(exc: BaseException | None = None) -> None:
    token = g.pop("tenant_token", None)
    if token is not None:
        deactivate(token)


def tenant_blueprint(name: str, import_name: str, path: str, **kwargs) -> Blueprint:
    """A blueprint whose routes run inside the account named in the URL."""
    blp = Blueprint(name, import_name, url_prefix=f"/v1/accounts/<uuid:account_id>{path}", **kwargs)

    @blp.url_value_preprocessor
    def _pop_account(endpoint, values) -> None:
        g.account_id = values.pop("account_id")

    @blp.before_request
    def _enter() -> None:
        enter_account(g.account_id)

    blp.teardown_request(leave_account)
    return blp
