"""The caller's second factor: TOTP enrolment, confirmation, recovery codes, disabling."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, request
from flask.views import MethodView

from api.auth import current_actor, current_user
from api.authentication import refuse_if_locked, throttle
from api.base import Blueprint, Schema
from api.errors import fail
from audit.user_events import record_user_event
from identity import mfa
from identity.models import User
from tenants.db import db

blp = Blueprint("mfa", __name__, url_prefix="/v1/me/mfa", description="Multi-factor authentication")

CODE = ma.fields.String(
    validate=ma.validate.Regexp(r"^\s*\d{6}\s*$"),
    metadata={"description": "The current 6-digit code of the authenticator app"},
)
RECOVERY_CODE = ma.fields.String(
    validate=ma.validate.Length(min=1, max=64),
    metadata={"description": "One of the recovery codes (each works once)"},
)


class EnrolmentOut(Schema):
    secret = ma.fields.String(required=True, metadata={"description": "Base32 TOTP secret"})
    otpauth_uri = ma.fields.String(required=True, metadata={"example": "otpauth://totp/…"})
    qr_svg = ma.fields.String(required=True, metadata={"description": "The URI as a QR code"})


class ConfirmIn(Schema):
    code = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^\s*\d{6}\s*$"),
        metadata={"description": "The current 6-digit code of the authenticator app"},
    )


class SecondFactorIn(Schema):
    """Proof of the second factor: a TOTP code or a recovery code."""

    code = CODE
    recovery_code = RECOVERY_CODE

    @ma.validates_schema
    def _one_factor(self, data, **kwargs):
        if bool(data.get("code")) == bool(data.get("recovery_code")):
            raise ma.ValidationError("Send either code or recovery_code.", "_schema")


class RecoveryCodesOut(Schema):
    recovery_codes = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "Shown once; each works once instead of a TOTP code"},
    )


class MfaStatusOut(Schema):
    enabled = ma.fields.Boolean(required=True)
    enabled_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    recovery_codes_remaining = ma.fields.Integer(required=True)


def _already_enabled():
    fail(409, "mfa_already_enabled", "MFA is already enabled; disable it first.")


def _record(user: User, action: str, after: dict) -> None:
    """The event in the audit log of each of the user's accounts, once this commits."""
    record_user_event(
        db.session, user_id=user.id, actor=current_actor(), action=action, after=after
    )


def _factor(data: dict) -> dict:
    """Which kind of second factor proved the request (never the code itself)."""
    return {"factor": "recovery_code" if data.get("recovery_code") else "totp"}


def _check_factor(user: User, data: dict) -> None:
    """Verify (and spend) the code in ``data``, throttled per user; 400/409/429 otherwise."""
    guard = throttle("mfa")
    refuse_if_locked(guard, ip=request.remote_addr, account=str(user.id))
    try:
        mfa.verify(
            db.session, user=user, code=data.get("code"), recovery_code=data.get("recovery_code")
        )
    except mfa.MfaNotEnabled:
        fail(409, "mfa_not_enabled", "MFA is not enabled.")
    except mfa.InvalidCode:
        db.session.rollback()
        guard.failure(ip=request.remote_addr, account=str(user.id))
        fail(400, "invalid_mfa_code", "The code is wrong, expired or already used.")
    guard.success(account=str(user.id))


@blp.route("/totp")
class Totp(MethodView):
    @blp.response(201, EnrolmentOut)
    @blp.errors(409)
    def post(self):
        """Start TOTP enrolment: a new secret, its otpauth URI and QR code (confirm next)"""
        user = current_user()
        try:
            enrolment = mfa.enrol(
                db.session, user=user, issuer=current_app.extensions["turumba.config"].mfa_issuer
            )
        except mfa.MfaAlreadyEnabled:
            _already_enabled()
        db.session.commit()
        return enrolment


@blp.route("/totp/confirm")
class TotpConfirm(MethodView):
    @blp.arguments(ConfirmIn)
    @blp.response(200, RecoveryCodesOut)
    @blp.errors(400, 409, 429)
    def post(self, data):
        """Confirm enrolment with a code: MFA is enabled, recovery codes returned once"""
        user = current_user()
        guard = throttle("mfa")
        refuse_if_locked(guard, ip=request.remote_addr, account=str(user.id))
        try:
            codes = mfa.confirm(db.session, user=user, code=data["code"])
        except mfa.MfaAlreadyEnabled:
            _already_enabled()
        except mfa.MfaNotEnrolled:
            fail(409, "mfa_not_enrolled", "Start with POST /v1/me/mfa/totp.")
        except mfa.InvalidCode:
            db.session.rollback()
            guard.failure(ip=request.remote_addr, account=str(user.id))
            fail(400, "invalid_mfa_code", "The code is wrong or expired.")
        guard.success(account=str(user.id))
        _record(user, "user.mfa_enabled", {"method": "totp"})
        db.session.commit()
        return {"recovery_codes": codes}


@blp.route("")
class Mfa(MethodView):
    @blp.response(200, MfaStatusOut)
    def get(self):
        """Whether MFA is enabled, and how many recovery codes are left"""
        user = current_user()
        enabled = user.mfa_enabled_at is not None
        remaining = mfa.remaining_recovery_codes(db.session, user_id=user.id) if enabled else 0
        return {
            "enabled": enabled,
            "enabled_at": user.mfa_enabled_at,
            "recovery_codes_remaining": remaining,
        }

    @blp.arguments(SecondFactorIn, location="query")
    @blp.response(204)
    @blp.errors(400, 409, 429)
    def delete(self, data):
        """Disable MFA (needs a current TOTP code or a recovery code, as query argument)"""
        user = current_user()
        _check_factor(user, data)
        mfa.disable_verified(db.session, user=user)
        _record(user, "user.mfa_disabled", _factor(data))
        db.session.commit()


@blp.route("/recovery-codes")
class RecoveryCodes(MethodView):
    @blp.arguments(SecondFactorIn)
    @blp.response(200, RecoveryCodesOut)
    @blp.errors(400, 409, 429)
    def post(self, data):
        """Replace the recovery codes with ten new ones (needs a code)"""
        user = current_user()
        _check_factor(user, data)
        codes = mfa.regenerate_recovery_codes(db.session, user_id=user.id)
        _record(user, "user.recovery_codes_regenerated", _factor(data))
        db.session.commit()
        return {"recovery_codes": codes}
