"""The caller's own context: who they are and which accounts they can switch between."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from api.auth import current_user
from api.base import Blueprint, Schema
from api.schemas import AccountOut, UserOut
from identity.service import accounts_of
from tenants.db import db

blp = Blueprint("me", __name__, url_prefix="/v1/me", description="The authenticated user")


class AccountAccessOut(AccountOut):
    role = ma.fields.String(required=True, metadata={"enum": ["owner", "admin", "agent"]})


class ContextOut(Schema):
    user = ma.fields.Nested(UserOut, required=True)
    accounts = ma.fields.List(ma.fields.Nested(AccountAccessOut), required=True)


@blp.route("/context")
class Context(MethodView):
    @blp.response(200, ContextOut)
    def get(self):
        """The user and every account they belong to, with their role in each"""
        user = current_user()
        accounts = [
            {**AccountOut().dump(access.account), "role": access.role}
            for access in accounts_of(db.session, user.id)
        ]
        return {"user": user, "accounts": accounts}
