"""Members of the current account: list, change roles, remove (or leave)."""

from __future__ import annotations

import uuid
from datetime import datetime

import marshmallow as ma
from flask import g
from flask.views import MethodView

from api.auth import audit_change, current_actor, deny, requires, tenant_blueprint
from api.base import Schema
from api.errors import fail
from api.listing import ORDERED_OPS, Field, ListArgs, Listing, page_schema, paginate
from audit.service import record
from identity.members import (
    LastOwner,
    change_role,
    describe,
    get_membership,
    members_query,
    remove_member,
    snapshot,
)
from identity.models import User
from identity.roles import PermissionMissing, get_role
from tenants.db import db
from tenants.models import Membership, Role

blp = tenant_blueprint("members", __name__, "/members", description="Members of the account")

ROLES = [r.value for r in Role]

LISTING = Listing(
    fields={
        "name": Field(User.name),
        "email": Field(User.email),
        "role": Field(Membership.role, str, ("eq", "ne", "in")),
        "custom_role_id": Field(Membership.custom_role_id, uuid.UUID, ("eq", "ne", "in", "isnull")),
        "joined_at": Field(Membership.created_at, datetime, ORDERED_OPS),
    },
    default_sort="name",
    tiebreak=Membership.user_id,
)


class CustomRoleRef(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)


class MemberOut(Schema):
    user_id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    avatar_url = ma.fields.String(allow_none=True)
    role = ma.fields.String(
        required=True,
        metadata={"enum": ROLES, "description": "Built-in role; `agent` under a custom role"},
    )
    custom_role = ma.fields.Nested(
        CustomRoleRef,
        allow_none=True,
        metadata={"description": "When set, this role alone decides the permissions"},
    )
    joined_at = ma.fields.AwareDateTime(required=True)


MemberPage = page_schema(MemberOut, "MemberPage")


class RoleChoice(Schema):
    """Exactly one of a built-in ``role`` and a custom ``role_id``."""

    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    role_id = ma.fields.UUID(metadata={"description": "A custom role of this account"})

    @ma.validates_schema
    def _exactly_one(self, data, **kwargs):
        if ("role" in data) == ("role_id" in data):
            raise ma.ValidationError("Give exactly one of role and role_id.", "_schema")


def resolve_role(data: dict):
    """``(role, custom_role)`` from a :class:`RoleChoice`; 422 for another account's role."""
    if "role" in data:
        return Role(data["role"]), None
    custom = get_role(db.session, account_id=g.account.id, role_id=data["role_id"])
    if custom is None:
        fail(422, "validation_failed", errors={"role_id": ["No such role in this account."]})
    return None, custom


def last_owner():
    fail(
        409,
        "last_owner",
        "The account must keep at least one owner; make someone else owner first.",
    )


def _member_or_404(user_id: uuid.UUID) -> Membership:
    membership = get_membership(db.session, account_id=g.account.id, user_id=user_id)
    if membership is None:
        fail(404, "member_not_found", "No such member.")
    return membership


@blp.route("")
class Members(MethodView):
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, MemberPage)
    @blp.errors(400)
    @requires("members:read")
    def get(self, args):
        """List members with their role and custom role"""
        page = paginate(db.session, members_query(g.account.id), LISTING, args)
        return {**page, "items": describe(db.session, page["items"])}


@blp.route("/<uuid:user_id>")
class MemberById(MethodView):
    @blp.arguments(RoleChoice)
    @blp.response(200, MemberOut)
    @blp.errors(409)
    @requires("members:manage")
    def patch(self, data, user_id):
        """Change a member's role (owner changes need owners:manage)"""
        membership = _member_or_404(user_id)
        role, custom = resolve_role(data)
        before = snapshot(membership)
        try:
            change_role(db.session, membership, role=role, custom_role=custom, actor=g.permissions)
        except PermissionMissing as exc:
            deny(*exc.permissions)
        except LastOwner:
            last_owner()
        after = snapshot(membership)
        if after != before:
            record(
                db.session,
                actor=current_actor(),
                action="member.role_changed",
                target_type="member",
                target_id=user_id,
                before=before,
                after=after,
            )
        db.session.commit()
        (described,) = describe(db.session, [membership])
        return described

    @blp.response(204)
    @blp.errors(409)
    def delete(self, user_id):
        """Remove a member (members:manage), or leave the account (your own user id)"""
        if user_id != g.user_id and "members:manage" not in g.permissions:
            deny("members:manage")
        membership = _member_or_404(user_id)
        before = snapshot(membership)
        try:
            remove_member(db.session, membership, actor_id=g.user_id, actor=g.permissions)
        except PermissionMissing as exc:
            deny(*exc.permissions)
        except LastOwner:
            last_owner()
        audit_change("member", "removed", user_id, before={**before, "left": user_id == g.user_id})
        db.session.commit()


#: For the permission matrix: DELETE on another member needs this; on yourself, nothing.
MemberById.delete.required_permission_unless_self = "members:manage"
