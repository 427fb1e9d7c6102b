"""The current account's settings: name, logo, time zone, locale and business hours."""

from __future__ import annotations

import marshmallow as ma
from flask import g
from flask.views import MethodView

from accounts.settings import WEEKDAYS, InvalidSettings, describe, update_settings
from api.auth import current_actor, requires, tenant_blueprint
from api.base import Schema
from api.errors import fail
from tenants.db import db

blp = tenant_blueprint("settings", __name__, "/settings", description="Account settings")


class IntervalSchema(Schema):
    start = ma.fields.String(required=True, metadata={"example": "09:00"})
    end = ma.fields.String(required=True, metadata={"example": "17:30"})


_HOURS = ma.fields.Dict(
    keys=ma.fields.String(validate=ma.validate.OneOf(WEEKDAYS)),
    values=ma.fields.List(ma.fields.Nested(IntervalSchema)),
    metadata={
        "description": "Opening intervals per weekday (mon…sun), HH:MM, start before end, "
        "not overlapping; a weekday left out is closed",
        "example": {
            "mon": [{"start": "09:00", "end": "12:30"}, {"start": "13:30", "end": "17:00"}]
        },
    },
)


class SettingsIn(Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    logo_url = ma.fields.Url(
        allow_none=True, schemes={"https", "http"}, validate=ma.validate.Length(max=2048)
    )
    timezone = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=64),
        metadata={"description": "IANA time zone; null resets to UTC", "example": "Europe/Paris"},
    )
    locale = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=35),
        metadata={"description": "Language tag; null resets to en", "example": "pt-BR"},
    )
    business_hours = _HOURS


class SettingsOut(Schema):
    name = ma.fields.String(required=True)
    logo_url = ma.fields.String(allow_none=True)
    timezone = ma.fields.String(required=True)
    locale = ma.fields.String(required=True)
    business_hours = _HOURS
    updated_at = ma.fields.AwareDateTime(
        allow_none=True, metadata={"description": "null until first changed"}
    )


@blp.route("")
class Settings(MethodView):
    @blp.response(200, SettingsOut)
    @requires("settings:read")
    def get(self):
        """The account's settings"""
        return describe(db.session, g.account.id)

    @blp.arguments(SettingsIn(partial=True))
    @blp.response(200, SettingsOut)
    @requires("settings:manage")
    def patch(self, data):
        """Change some settings (audited; every field optional)"""
        try:
            settings = update_settings(
                db.session, account_id=g.account.id, actor=current_actor(), **data
            )
        except InvalidSettings as exc:
            fail(422, "validation_failed", "The request has invalid fields.", errors=exc.errors)
        db.session.commit()
        return settings
