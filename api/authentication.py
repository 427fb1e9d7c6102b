"""Sign-up, log-in (with its MFA step), refresh and log-out: obtaining and ending sessions.

Every way in opens an auth session and returns an access token (short-lived, carrying
the session id) and a refresh token (single use, rotated by ``POST /v1/auth/refresh``).
Log-in, its MFA step and refresh are guarded against brute force per client IP and per
account (:mod:`identity.throttle`): after too many failures the identifier is locked and
answers ``429 too_many_attempts`` with ``Retry-After``.
"""

from __future__ import annotations

import contextlib
import time
from typing import NoReturn

import marshmallow as ma
import redis
from flask import current_app, g, request
from flask.views import MethodView

from api.auth import authenticate, issue_tokens, token_issuer
from api.base import Blueprint, Schema
from api.errors import fail
from api.ratelimit import limit
from api.schemas import AccountOut, TokenPairOut, TokensIfIssued, UserOut
from core.redis import redis_client
from identity import mfa, sessions
from identity.models import User
from identity.service import EmailTaken, InvalidCredentials, normalise_email, signup
from identity.service import authenticate as check_password
from identity.throttle import Locked, Throttle, login_limits
from identity.tokens import InvalidToken
from provisioning.accounts import InvalidSlug, SlugTaken
from tenants.db import db

blp = Blueprint(
    "auth", __name__, url_prefix="/v1/auth", description="Sign up, log in, refresh, log out"
)

PASSWORD = ma.fields.String(
    required=True, load_only=True, validate=ma.validate.Length(min=8, max=256)
)
_USED_MFA_TOKEN = "turumba:mfa-token-used:{}"


class SignupIn(Schema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=320))
    password = PASSWORD
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    account_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    slug = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(min=1, max=63),
        metadata={"description": "URL-safe account handle; derived from the name when omitted"},
    )


class SignupOut(TokenPairOut):
    user = ma.fields.Nested(UserOut, required=True)
    account = ma.fields.Nested(AccountOut, required=True)


class LoginIn(Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=320))
    password = ma.fields.String(required=True, load_only=True)


class LoginOut(TokensIfIssued):
    """Either the tokens, or (MFA enabled) ``mfa_required`` and the token for step two."""

    mfa_required = ma.fields.Boolean(required=True)
    mfa_token = ma.fields.String(
        metadata={"description": "Present when mfa_required: send it to /v1/auth/login/mfa"}
    )
    mfa_expires_in = ma.fields.Integer(metadata={"description": "Seconds"})


class LoginMfaIn(Schema):
    mfa_token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=4096))
    code = ma.fields.String(
        validate=ma.validate.Regexp(r"^\s*\d{6}\s*$"),
        metadata={"description": "The current 6-digit code of the authenticator app"},
    )
    recovery_code = ma.fields.String(
        validate=ma.validate.Length(min=1, max=64),
        metadata={"description": "One of the recovery codes (each works once)"},
    )

    @ma.validates_schema
    def _one_factor(self, data, **kwargs):
        if bool(data.get("code")) == bool(data.get("recovery_code")):
            raise ma.ValidationError("Send either code or recovery_code.", "_schema")


class RefreshIn(Schema):
    refresh_token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))


def slug_errors(exc: SlugTaken | InvalidSlug):
    if isinstance(exc, SlugTaken):
        fail(409, "slug_taken", "That account slug is taken.", errors={"slug": [str(exc)]})
    fail(422, "validation_failed", errors={"slug": [str(exc)]})


# -- brute-force protection --------------------------------------------------------------


def throttle(scope: str) -> Throttle:
    """The configured per-IP / per-account throttle for ``scope``."""
    config = current_app.extensions["turumba.config"]
    return Throttle(redis_client(), scope, login_limits(config))


def refuse_if_locked(guard: Throttle, **identifiers: str | None) -> None:
    """429 ``too_many_attempts`` with ``Retry-After`` while any identifier is locked."""
    try:
        guard.check(**identifiers)
    except Locked as exc:
        too_many_attempts(exc)


def too_many_attempts(exc: Locked) -> NoReturn:
    fail(
        429,
        "too_many_attempts",
        f"Too many failed attempts; try again in {exc.retry_after} seconds.",
        headers={"Retry-After": str(exc.retry_after)},
    )


# -- endpoints ----------------------------------------------------------------------------


@blp.route("/signup")
class Signup(MethodView):
    @blp.doc(security=[])
    @blp.arguments(SignupIn)
    @blp.response(201, SignupOut)
    @blp.errors(409, 429)
    def post(self, data):
        """Create a user and their account (with its own schema); returns a session's tokens"""
        limit("signup")
        try:
            user, account = signup(db.session, **data)
        except EmailTaken:
            fail(
                409,
                "email_taken",
                "A user with this email exists; log in instead.",
                errors={"email": ["already registered"]},
            )
        except (SlugTaken, InvalidSlug) as exc:
            slug_errors(exc)
        db.session.commit()
        return {"user": user, "account": account, **issue_tokens(user.id)}


@blp.route("/login")
class Login(MethodView):
    @blp.doc(security=[])
    @blp.arguments(LoginIn)
    @blp.response(200, LoginOut)
    @blp.errors(401, 429)
    def post(self, data):
        """Exchange email and password for a session (or for the MFA step when enabled)"""
        limit("login")
        guard = throttle("login")
        email = normalise_email(data["email"])
        refuse_if_locked(guard, ip=request.remote_addr, account=email)
        try:
            user = check_password(db.session, **data)
        except InvalidCredentials:
            guard.failure(ip=request.remote_addr, account=email)
            fail(401, "invalid_credentials", "Email or password is wrong.")
        if user.mfa_enabled_at is not None:
            # The password is right, but the account is not open until the second factor.
            mfa_token, ttl = token_issuer().issue_mfa(user.id)
            return {"mfa_required": True, "mfa_token": mfa_token, "mfa_expires_in": ttl}
        guard.success(account=email)
        return {"mfa_required": False, **issue_tokens(user.id)}


@blp.route("/login/mfa")
class LoginMfa(MethodView):
    @blp.doc(security=[])
    @blp.arguments(LoginMfaIn)
    @blp.response(200, TokenPairOut)
    @blp.errors(401, 429)
    def post(self, data):
        """Complete a log-in with a TOTP code or a recovery code"""
        guard = throttle("login")
        refuse_if_locked(guard, ip=request.remote_addr)
        try:
            claims = token_issuer().verify_mfa(data["mfa_token"])
        except InvalidToken:
            guard.failure(ip=request.remote_addr)
            fail(401, "invalid_mfa_token", "The MFA step expired or is invalid; log in again.")
        user = db.session.get(User, claims.user_id)
        if user is None or user.deleted_at is not None or user.mfa_enabled_at is None:
            fail(401, "invalid_mfa_token", "The MFA step expired or is invalid; log in again.")
        refuse_if_locked(guard, account=user.email)
        try:
            mfa.verify(
                db.session,
                user=user,
                code=data.get("code"),
                recovery_code=data.get("recovery_code"),
            )
        except mfa.InvalidCode:
            db.session.rollback()
            guard.failure(ip=request.remote_addr, account=user.email)
            fail(401, "invalid_mfa_code", "The code is wrong, expired or already used.")
        # The MFA token is single use: claim it (atomically) before opening the session.
        try:
            ttl = max(1, claims.expires_at - int(time.time()))
            claimed = redis_client().set(
                _USED_MFA_TOKEN.format(claims.token_id), 1, ex=ttl, nx=True
            )
        except redis.RedisError:
            current_app.logger.warning("MFA token reuse not checked: redis unavailable")
            claimed = True
        if not claimed:
            db.session.rollback()
            fail(401, "invalid_mfa_token", "This MFA step was already completed; log in again.")
        guard.success(account=user.email)
        return issue_tokens(user.id)  # commits the spent code with the new session


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.doc(security=[])
    @blp.arguments(RefreshIn)
    @blp.response(200, TokenPairOut)
    @blp.errors(401, 429)
    def post(self, data):
        """Exchange a refresh token for new tokens (the presented one stops working)"""
        guard = throttle("refresh")
        refuse_if_locked(guard, ip=request.remote_addr)
        config = current_app.extensions["turumba.config"]
        try:
            opened = sessions.rotate(
                db.session,
                refresh_token=data["refresh_token"],
                refresh_ttl=config.refresh_token_ttl,
                ip=request.remote_addr,
            )
        except sessions.RefreshError as exc:
            db.session.commit()  # a detected reuse revokes the session: keep that
            guard.failure(ip=request.remote_addr, account=exc.user_id and str(exc.user_id))
            messages = {
                "refresh_token_reused": "This refresh token was already used; the session "
                "has been revoked. Log in again.",
                "session_revoked": "This session was signed out; log in again.",
                "invalid_refresh_token": "The refresh token is invalid or expired.",
            }
            fail(401, exc.code, messages[exc.code])
        user_key = str(opened.session.user_id)
        try:
            guard.check(account=user_key)
        except Locked as exc:
            db.session.rollback()  # the presented token stays unused
            too_many_attempts(exc)
        db.session.commit()
        guard.success(account=user_key)
        return issue_tokens(opened.session.user_id, opened)


@blp.route("/logout")
class Logout(MethodView):
    @blp.response(204)
    def post(self):
        """End the current session: its refresh token and access tokens stop working"""
        user_id = authenticate()
        session_id = g.get("session_id")
        if session_id is not None:
            with contextlib.suppress(sessions.SessionNotFound):
                sessions.revoke_session(
                    db.session, user_id=user_id, session_id=session_id, reason="logout"
                )
            db.session.commit()
