"""The account's audit log: read-only, filterable, newest first."""

from __future__ import annotations

import uuid
from datetime import datetime

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import select

from api.auth import requires, tenant_blueprint
from api.base import Schema
from api.listing import ORDERED_OPS, Field, ListArgs, Listing, page_schema, paginate
from audit.models import ACTOR_TYPES, AuditEntry
from tenants.db import db

blp = tenant_blueprint("audit", __name__, "/audit-log", description="Audit log")

_ID_OPS = ("eq", "ne", "in", "isnull")

LISTING = Listing(
    fields={
        "occurred_at": Field(AuditEntry.occurred_at, datetime, ORDERED_OPS),
        "action": Field(AuditEntry.action),
        "actor_type": Field(AuditEntry.actor_type, str, ("eq", "ne", "in")),
        "actor_id": Field(AuditEntry.actor_id, uuid.UUID, _ID_OPS, sortable=False),
        "target_type": Field(AuditEntry.target_type),
        "target_id": Field(AuditEntry.target_id, str, _ID_OPS, sortable=False),
        "request_id": Field(AuditEntry.request_id, str, ("eq",), sortable=False),
    },
    default_sort="-occurred_at",
    tiebreak=AuditEntry.id,
)


class AuditEntryOut(Schema):
    id = ma.fields.UUID(required=True)
    occurred_at = ma.fields.AwareDateTime(required=True)
    actor_type = ma.fields.String(required=True, metadata={"enum": list(ACTOR_TYPES)})
    actor_id = ma.fields.UUID(allow_none=True)
    actor_ip = ma.fields.String(allow_none=True)
    user_agent = ma.fields.String(allow_none=True)
    action = ma.fields.String(required=True, metadata={"example": "settings.updated"})
    target_type = ma.fields.String(required=True, metadata={"example": "account"})
    target_id = ma.fields.String(allow_none=True)
    before = ma.fields.Dict(allow_none=True, metadata={"description": "Changed fields, before"})
    after = ma.fields.Dict(allow_none=True, metadata={"description": "Changed fields, after"})
    request_id = ma.fields.String(allow_none=True)


AuditPage = page_schema(AuditEntryOut, "AuditPage")


@blp.route("")
class AuditLog(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, AuditPage)
    @blp.errors(400)
    @requires("audit:read")
    def get(self, args):
        """List the account's audit entries (filter by action, actor, target, time)"""
        return paginate(db.session, select(AuditEntry), LISTING, args)
