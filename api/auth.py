"""Who is calling, and on which account's behalf.

The active account is named by the path: every tenant resource lives under
``/v1/accounts/{account_id}/``. The caller must be a member. An unknown account, a
deleted one and somebody else's all answer the same 404, so the API is no oracle for
which accounts exist; a suspended account answers 403 to its own members only.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any, NoReturn

import redis
from flask import current_app, g, request
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from api.base import Blueprint
from api.errors import fail
from api.requests import request_handler
from audit.service import Actor, record_change
from core.redis import redis_client
from identity.api_tokens import TokenRefused, looks_like_token
from identity.api_tokens import resolve as resolve_api_token
from identity.models import User
from identity.permissions import PERMISSIONS
from identity.roles import Standing, access_in
from identity.sessions import REVOKED_KEY, SEEN_KEY, Opened, open_session
from identity.sessions import is_revoked as session_is_revoked
from identity.sessions import touch_if_due as touch_session_if_due
from identity.standings import GENERATION_KEY as STANDINGS_GENERATION_KEY
from identity.standings import UNKNOWN, Standings
from identity.tokens import AccessClaims, InvalidToken, TokenIssuer
from tenants.db import db, utcnow
from tenants.models import AccountStatus
from tenants.registry import ASK, GENERATION_KEY, registry
from tenants.scope import activate, deactivate

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="turumba"'}
_REFUSED = {"WWW-Authenticate": 'Bearer realm="turumba", error="invalid_token"'}


def standings() -> Standings:
    return current_app.extensions["turumba.standings"]


def token_issuer() -> TokenIssuer:
    return current_app.extensions["turumba.tokens"]


def issue_tokens(user_id: uuid.UUID, opened: Opened | None = None) -> dict:
    """An access token and a refresh token (see ``api.authentication.TokenPairOut``).

    Without ``opened`` this opens a new auth session for the calling device (user agent,
    IP) and COMMITS the current transaction; with it, the tokens continue that session.
    """
    if opened is None:
        config = current_app.extensions["turumba.config"]
        opened = open_session(
            db.session,
            user_id=user_id,
            user_agent=request.user_agent.string,
            ip=request.remote_addr,
            refresh_ttl=config.refresh_token_ttl,
        )
        db.session.commit()
    token, ttl = token_issuer().issue(user_id, session_id=opened.session.id)
    refresh_in = (opened.refresh_expires_at - utcnow()).total_seconds()
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "refresh_token": opened.refresh_token,
        "refresh_expires_in": max(0, int(refresh_in)),
        "session_id": opened.session.id,
    }


@dataclass(frozen=True)
class SessionFlags:
    """What Redis says about an access token's session, read in one round trip.

    ``revoked`` is None when Redis could not answer (the database decides then);
    ``seen`` says the session's use was recorded less than a minute ago. When asked, the
    generations of the account registry (for :meth:`tenants.registry.Registry.get`;
    ``ASK`` when not read) and of the standings cache (for
    :meth:`identity.standings.Standings.get`; ``UNKNOWN`` when not read) come along.
    """

    revoked: bool | None
    seen: bool
    generation: Any = ASK
    standings: Any = UNKNOWN


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        fail(
            401,
            "unauthenticated",
            "Send an access token: Authorization: Bearer <token>.",
            headers=_CHALLENGE,
        )
    return token.strip()


def _access_claims(token: str) -> AccessClaims:
    try:
        return token_issuer().verify(token)
    except InvalidToken:
        fail(
            401,
            "invalid_token",
            "The access token is invalid or has expired; log in again.",
            headers=_REFUSED,
        )


def _session_flags(claims: AccessClaims, *, generation: bool = False) -> SessionFlags:
    """The session's revocation and last-seen marks (and the generations, when asked)
    in one Redis command."""
    keys = []
    if claims.session_id is not None:
        keys += [REVOKED_KEY.format(claims.session_id), SEEN_KEY.format(claims.session_id)]
    if generation:
        keys += [GENERATION_KEY, STANDINGS_GENERATION_KEY]
    if not keys:
        return SessionFlags(revoked=False, seen=True)
    try:
        values = redis_client().mget(keys)
    except redis.RedisError:
        return SessionFlags(revoked=None, seen=True)
    if claims.session_id is None:
        revoked, seen = False, True
    else:
        revoked, seen, *values = values
        revoked, seen = revoked is not None, seen is not None
    if not generation:
        return SessionFlags(revoked=revoked, seen=seen)
    return SessionFlags(revoked=revoked, seen=seen, generation=values[0], standings=values[1])


def _admit(
    conn: Connection | Session,
    token: str,
    claims: AccessClaims,
    flags: SessionFlags,
    standing: Standing | None = None,
) -> None:
    """Refuse a revoked session, a deleted user, or a token older than the last password
    change; note the session's use (at most once a minute, on its own connection).

    ``standing`` is the user's state when the caller read it already (with the
    membership, in one query); otherwise ``conn`` reads it.
    """
    if claims.session_id is not None:
        revoked = flags.revoked
        if revoked is None:  # Redis did not answer: the database decides
            revoked = session_is_revoked(conn, redis_client(), claims.session_id)
        if revoked:
            fail(
                401,
                "session_revoked",
                "This session was signed out; log in again.",
                headers=_REFUSED,
            )
    if standing is None:
        state = conn.execute(
            select(User.deleted_at, User.password_changed_at).where(User.id == claims.user_id)
        ).first()
        exists = state is not None
        deleted_at, changed = state if exists else (None, None)
    else:
        exists = standing.exists
        deleted_at, changed = standing.deleted_at, standing.password_changed_at
    if deleted_at is not None:
        fail(401, "user_deleted", "This user has been deleted.", headers=_REFUSED)
    if changed is not None and claims.issued_at < changed.timestamp():
        fail(
            401,
            "password_changed",
            "The password changed after this token was issued; log in again.",
            headers=_REFUSED,
        )
    if claims.session_id is not None and exists and not flags.seen:
        with db.engine.connect() as own:  # a commit of its own, whatever the request does
            touch_session_if_due(own, redis_client(), claims.session_id)
    g.user_id = claims.user_id
    g.session_id = claims.session_id
    request.environ["turumba.verified_token"] = token


def authenticate() -> uuid.UUID:
    """The user id from a valid ``Authorization: Bearer`` access token, or a 401.

    API tokens (``tt_…``) are refused here: they work only inside their account
    (:func:`enter_account`), where their creator is the user (see :func:`_api_token`).
    """
    token = _bearer_token()
    if request.environ.get("turumba.verified_token") == token:  # checked in this request
        return g.user_id
    if looks_like_token(token):
        return _api_token(token, None)
    claims = _access_claims(token)
    flags = _session_flags(claims)
    # Own short-lived connection: the caller's session may be about to enter a tenant.
    with db.engine.connect() as conn:
        _admit(conn, token, claims, flags)
    return claims.user_id


def current_user() -> User:
    """The authenticated user's row, or a 401 when the token outlived the user."""
    user = db.session.get(User, authenticate())
    if user is None:
        fail(401, "invalid_token", "The user of this token no longer exists.")
    return user


def require_verified() -> User:
    """The authenticated user, or a 403 ``email_unverified`` until they verify their email.

    Unverified users may log in and work in their accounts; actions that reach beyond
    them (creating accounts, inviting people, minting API tokens) call this first.
    """
    user = current_user()
    if user.email_verified_at is None:
        fail(
            403,
            "email_unverified",
            "Verify your email address first: follow the link we emailed you, or ask for "
            "a new one with POST /v1/me/verification-email.",
        )
    return user


def enter_account(account_id: uuid.UUID) -> None:
    """Authenticate the caller and make ``account_id`` the request's tenant, or refuse.

    An access token costs one Redis command (its session's marks and the generations of
    the registry and of the standings, in one MGET) and, unless this process remembers
    it (:mod:`identity.standings`), one query for the user's state and membership, on a
    connection of its own. The refusals keep their order: 401s first, then 404, then 403.
    """
    token = _bearer_token()
    api_token = looks_like_token(token)
    if api_token:
        user_id = _api_token(token, account_id)
        record = registry().get(account_id)
    else:
        claims = _access_claims(token)
        flags = _session_flags(claims, generation=True)
        record = registry().get(account_id, generation=flags.generation)
    live = record is not None and record.status is not AccountStatus.DELETED
    if live:
        g.tenant_token = activate(record.schema_name)
    if api_token:
        access = access_in(db.session, account_id=account_id, user_id=user_id) if live else None
    else:  # the user's state and membership: remembered, or one query on its own connection
        standing = standings().get(
            account_id=account_id, user_id=claims.user_id, generation=flags.standings
        )
        _admit(db.session, token, claims, flags, standing)
        access = standing.access if live else None
    if access is None:
        _no_such_account()
    if record.status is AccountStatus.SUSPENDED:
        fail(403, "account_suspended", "This account is suspended; contact support.")
    g.account = record
    g.role = access.role
    g.custom_role_id = access.custom_role_id
    g.permissions = access.permissions
    if g.get("api_token_id") is not None:  # an API token: its scopes, within its creator's
        g.permissions = access.permissions & g.api_token_scopes
    _check_declared_permission()


def _check_declared_permission() -> None:
    """Apply the view's ``@requires`` before anything else runs (body parsing included).

    So a caller without the permission learns nothing from validation errors, and the
    answer does not depend on the order of the view's decorators.
    """
    permission = getattr(request_handler(), REQUIRED_PERMISSION, None)
    if permission is not None and permission not in g.permissions:
        deny(permission)


#: The attribute ``@requires`` leaves on a view (and, via functools.wraps, its wrappers).
REQUIRED_PERMISSION = "required_permission"


def deny(*permissions: str) -> NoReturn:
    """The 403 every missing permission answers, naming the permission(s)."""
    names = ", ".join(repr(p) for p in permissions)
    fail(
        403,
        "permission_denied",
        f"Your role does not allow this; it needs the {names} permission"
        + ("s." if len(permissions) > 1 else "."),
        errors={"permission": list(permissions)},
    )


def requires(permission: str):
    """Refuse the view with 403 unless the caller's role in the account grants ``permission``."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")

    def decorator(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            if permission not in g.permissions:
                deny(permission)
            return view(*args, **kwargs)

        setattr(guarded, REQUIRED_PERMISSION, permission)
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


def current_actor(user_id: uuid.UUID | None = None) -> Actor:
    """Who is making this request, for the audit log: the API token or the user.

    ``user_id`` names the user explicitly where the request authenticated nobody yet
    (e.g. a user created by this very request).
    """
    token_id = g.get("api_token_id")
    if token_id is not None:
        kind, actor_id = "api_token", token_id
    else:
        kind, actor_id = "user", user_id or g.get("user_id")
    return Actor(
        type=kind if actor_id is not None else "system",
        id=actor_id,
        ip=request.remote_addr,
        user_agent=request.user_agent.string or None,
        request_id=g.get("request_id"),
    )


def acting() -> dict[str, Any]:
    """The keywords every tenant service takes about who acts where: the request's
    account and actor."""
    return {"account_id": g.account.id, "actor": current_actor()}


def audit_change(
    target_type: str, action: str, target_id: Any, *, before: Any = None, after: Any = None
) -> None:
    """Log ``<target_type>.<action>`` by the current actor in this request's transaction."""
    record_change(
        db.session,
        actor=current_actor(),
        action=f"{target_type}.{action}",
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
    )


_API_TOKEN_REFUSALS = {
    "revoked": ("api_token_revoked", "This API token has been revoked."),
    "expired": ("api_token_expired", "This API token has expired."),
}


def _api_token(token: str, account_id: uuid.UUID | None) -> uuid.UUID:
    """Authenticate an API token for ``account_id``; the token's creator is the user."""
    if account_id is None:
        fail(
            401,
            "api_token_not_allowed",
            "API tokens work only on their account's endpoints (/v1/accounts/{id}/...); "
            "log in as a user for this one.",
            headers=_REFUSED,
        )
    try:
        with db.engine.connect() as conn:  # own connection: the session may enter a tenant
            resolved = resolve_api_token(conn, token)
    except TokenRefused as exc:
        code, message = _API_TOKEN_REFUSALS.get(
            exc.reason, ("invalid_token", "The API token is not valid.")
        )
        fail(401, code, message, headers=_REFUSED)
    if resolved.account_id != account_id:
        _no_such_account()
    g.user_id = resolved.created_by
    g.api_token_id = resolved.id
    g.api_token_scopes = resolved.scopes
    request.environ["turumba.verified_token"] = token
    return resolved.created_by
