"""The caller's own context: who they are and which accounts they can switch between."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from api.auth import current_user
from api.base import Blueprint, Schema
from api.schemas import AccountOut, UserOut
from identity.members import update_profile
from identity.service import accounts_of
from tenants.db import db

blp = Blueprint("me", __name__, url_prefix="/v1/me", description="The authenticated user")


class CustomRoleOut(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)


class AccountAccessOut(AccountOut):
    role = ma.fields.String(
        required=True,
        metadata={
            "enum": ["owner", "admin", "agent"],
            "description": "`agent` under a custom role",
        },
    )
    custom_role = ma.fields.Nested(CustomRoleOut, allow_none=True)
    permissions = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "What the caller may do in this account (sorted)"},
    )


class MeOut(UserOut):
    avatar_url = ma.fields.String(allow_none=True)
    email_verified = ma.fields.Boolean(required=True)


class ProfileIn(Schema):
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    avatar_url = ma.fields.Url(
        allow_none=True,
        schemes={"https", "http"},
        validate=ma.validate.Length(max=2048),
    )


class ContextOut(Schema):
    user = ma.fields.Nested(MeOut, required=True)
    accounts = ma.fields.List(ma.fields.Nested(AccountAccessOut), required=True)


def _me(user) -> dict:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "created_at": user.created_at,
        "avatar_url": user.avatar_url,
        "email_verified": user.email_verified_at is not None,
    }


@blp.route("")
class Me(MethodView):
    @blp.arguments(ProfileIn)
    @blp.response(200, MeOut)
    def patch(self, data):
        """Change your own name and avatar (email and roles are changed elsewhere)"""
        user = current_user()
        update_profile(db.session, user, **data)
        db.session.commit()
        return _me(user)


@blp.route("/context")
class Context(MethodView):
    @blp.response(200, ContextOut)
    def get(self):
        """The user and every account they belong to, with role and permissions in each"""
        user = current_user()
        accounts = [
            {
                **AccountOut().dump(access.account),
                "role": access.role,
                "custom_role": access.custom_role,
                "permissions": sorted(access.permissions),
            }
            for access in accounts_of(db.session, user.id)
        ]
        return {"user": _me(user), "accounts": accounts}
