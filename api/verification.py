"""Email verification: follow the emailed link (or type its code), and ask for a new one."""

from __future__ import annotations

from typing import NoReturn

import marshmallow as ma
from flask import current_app, request
from flask.views import MethodView

from api.auth import current_actor, current_user
from api.base import Blueprint, Schema
from api.errors import fail
from audit.user_events import record_user_event
from core.redis import redis_client
from identity.onetime import TokenError, TokenInvalid
from identity.throttle import Locked, Throttle, login_limits
from identity.verification import (
    AlreadyVerified,
    ResendThrottled,
    resend_verification,
    verify_email,
    verify_email_code,
)
from tenants.db import db

blp = Blueprint("verification", __name__, url_prefix="/v1", description="Email verification")

TOKEN_MESSAGES = {
    "token_invalid": "This link or code is not valid.",
    "token_expired": "This link has expired; ask for a new one.",
    "token_used": "This link was already used.",
    "token_superseded": "A newer email replaced this one; use the latest link.",
}


class TokenAttempts:
    """Failed token checks counted per client IP (identity.throttle); locked IPs get 429.

    Tokens are 256-bit secrets, so this guards against noise and scanners rather than
    guessing; the short verification code has its own per-token limit as well.
    """

    def __init__(self, scope: str) -> None:
        limits = login_limits(current_app.extensions["turumba.config"])
        self.throttle = Throttle(redis_client(), scope, {"ip": limits["ip"]})
        self.ip = request.remote_addr

    def check(self) -> None:
        try:
            self.throttle.check(ip=self.ip)
        except Locked as exc:
            fail(
                429,
                "too_many_attempts",
                f"Too many invalid links or codes; try again in {exc.retry_after} seconds.",
                headers={"Retry-After": str(exc.retry_after)},
            )

    def failed(self, exc: TokenError) -> NoReturn:
        self.throttle.failure(ip=self.ip)
        token_failed(exc)


def token_failed(exc: TokenError) -> NoReturn:
    """400 for a token we do not know, 410 for one that existed but is spent or dead."""
    status = 400 if isinstance(exc, TokenInvalid) else 410
    fail(status, exc.code, TOKEN_MESSAGES[exc.code])


class VerifyTokenIn(Schema):
    token = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "The `token` parameter of the emailed link"},
    )


class VerifyCodeIn(Schema):
    code = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=20),
        metadata={"description": "The short code of the latest email, e.g. ABCD-2345"},
    )


class VerificationOut(Schema):
    email = ma.fields.Email(required=True)
    verified = ma.fields.Boolean(required=True)
    verified_at = ma.fields.AwareDateTime(allow_none=True)


class ResentOut(Schema):
    sent_to = ma.fields.Email(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)


def _status(user) -> dict:
    return {
        "email": user.email,
        "verified": user.email_verified_at is not None,
        "verified_at": user.email_verified_at,
    }


def _record_verified(user, method: str, *, actor) -> None:
    """``user.email_verified`` in each of the user's accounts' audit logs, once this commits."""
    record_user_event(
        db.session,
        user_id=user.id,
        actor=actor,
        action="user.email_verified",
        after={"email": user.email, "method": method},
    )


def _already_verified() -> NoReturn:
    fail(409, "email_already_verified", "Your email address is already verified.")


@blp.route("/auth/verify-email")
class VerifyEmail(MethodView):
    @blp.doc(security=[])
    @blp.arguments(VerifyTokenIn)
    @blp.response(200, VerificationOut)
    @blp.errors(400, 410, 429)
    def post(self, data):
        """Verify an email address with the token of the emailed link

        Unknown token: 400 `token_invalid`; expired: 410 `token_expired`; already used:
        410 `token_used`; replaced by a newer email: 410 `token_superseded`. Too many
        failures from one IP: 429 `too_many_attempts`.
        """
        attempts = TokenAttempts("verify_email")
        attempts.check()
        try:
            user = verify_email(db.session, **data)
        except TokenError as exc:
            db.session.rollback()
            attempts.failed(exc)
        _record_verified(user, "link", actor=current_actor(user_id=user.id))
        db.session.commit()
        return _status(user)


@blp.route("/me/verify-email")
class VerifyOwnEmail(MethodView):
    @blp.arguments(VerifyCodeIn)
    @blp.response(200, VerificationOut)
    @blp.errors(400, 409, 410, 429)
    def post(self, data):
        """Verify the caller's email address with the short code of the latest email

        A wrong code answers 400 `token_invalid`; five wrong codes kill it (410
        `token_superseded`: ask for a new email).
        """
        user = current_user()
        attempts = TokenAttempts("verify_email")
        attempts.check()
        try:
            user = verify_email_code(db.session, user_id=user.id, **data)
        except AlreadyVerified:
            _already_verified()
        except TokenError as exc:
            db.session.commit()  # the wrong guess is counted
            attempts.failed(exc)
        _record_verified(user, "code", actor=current_actor())
        db.session.commit()
        return _status(user)


@blp.route("/me/email-verification")
class VerificationStatus(MethodView):
    @blp.response(200, VerificationOut)
    def get(self):
        """Whether the caller's email address is verified"""
        return _status(current_user())


@blp.route("/me/verification-email")
class ResendVerification(MethodView):
    @blp.response(202, ResentOut)
    @blp.errors(409, 429)
    def post(self):
        """Email the caller a new verification link and code (the older ones stop working)

        Throttled: one email a minute and five a day (sign-up's included) by default;
        429 with Retry-After beyond.
        """
        user = current_user()
        try:
            issued = resend_verification(db.session, user_id=user.id)
        except AlreadyVerified:
            _already_verified()
        except ResendThrottled as exc:
            fail(
                429,
                "rate_limited",
                f"A verification email was sent recently; try again in {exc.retry_after} seconds.",
                headers={"Retry-After": str(exc.retry_after)},
            )
        db.session.commit()
        return {"sent_to": issued.row.sent_to, "expires_at": issued.row.expires_at}
