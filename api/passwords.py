"""Forgotten passwords: ask for a reset link by email, then set a new password with it."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from api.auth import current_actor
from api.base import Blueprint, Schema
from api.ratelimit import limit
from api.verification import TokenAttempts
from audit.user_events import record_user_event
from identity.onetime import TokenError
from identity.recovery import request_password_reset, reset_password
from tenants.db import db

blp = Blueprint("passwords", __name__, url_prefix="/v1/auth/password", description="Password reset")

FORGOT_MESSAGE = (
    "If an account uses this address, we have sent it a link to reset the password. "
    "The link works once, for a limited time."
)


class ForgotIn(Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=320))


class AcceptedOut(Schema):
    message = ma.fields.String(required=True)


class ResetIn(Schema):
    token = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "The `token` parameter of the emailed link"},
    )
    new_password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(min=8, max=256)
    )


@blp.route("/forgot")
class Forgot(MethodView):
    @blp.doc(security=[])
    @blp.arguments(ForgotIn)
    @blp.response(202, AcceptedOut)
    @blp.errors(429)
    def post(self, data):
        """Email a password reset link, if the address belongs to a user

        Always answers 202 with the same body, registered address or not, and does the
        same work either way (the lookup and the email happen in a queued job).
        """
        limit("password_forgot")
        request_password_reset(db.session, **data)
        db.session.commit()
        return {"message": FORGOT_MESSAGE}


@blp.route("/reset")
class Reset(MethodView):
    @blp.doc(security=[])
    @blp.arguments(ResetIn)
    @blp.response(204)
    @blp.errors(400, 410, 429)
    def post(self, data):
        """Set a new password with the token of a reset link

        Signs out every session started with the old password, verifies the email
        address and mails a notice. Unknown token: 400 `token_invalid`; expired, used or
        replaced by a newer link: 410 `token_expired` / `token_used` / `token_superseded`.
        Too many failures from one IP: 429 `too_many_attempts` (identity.throttle).
        """
        attempts = TokenAttempts("password_reset")
        attempts.check()
        try:
            user = reset_password(db.session, **data)
        except TokenError as exc:
            db.session.rollback()
            attempts.failed(exc)
        record_user_event(
            db.session,
            user_id=user.id,
            actor=current_actor(user_id=user.id),
            action="user.password_reset",
        )
        db.session.commit()
