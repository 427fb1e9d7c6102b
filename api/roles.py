"""Roles of an account (the built-in ones and custom ones) and the permission catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import marshmallow as ma
from flask import g
from flask.views import MethodView

from api.auth import audit_change, authenticate, deny, requires, tenant_blueprint
from api.base import Blueprint, Schema
from api.errors import fail
from identity.permissions import BUILT_IN, NOT_FOR_CUSTOM_ROLES, PERMISSIONS
from identity.roles import (
    InvalidPermissions,
    PermissionMissing,
    RoleInUse,
    RoleNameTaken,
    create_role,
    delete_role,
    get_role,
    list_roles,
    role_snapshot,
    update_role,
)
from tenants.db import db
from tenants.models import AccountRole, Role

blp = tenant_blueprint("roles", __name__, "/roles", description="Roles and their permissions")
catalogue = Blueprint(
    "permissions", __name__, url_prefix="/v1/permissions", description="Roles and their permissions"
)

BUILT_IN_DESCRIPTIONS = {
    Role.OWNER: "Everything, including owners and deleting the account",
    Role.ADMIN: "Everything but granting the owner role and deleting the account",
    Role.AGENT: "Day-to-day work: contacts, conversations; reads settings and members",
}


class RoleIn(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=80))
    description = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=1000))
    permissions = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        required=True,
        metadata={
            "description": "Permissions from GET /v1/permissions, except "
            + ", ".join(sorted(NOT_FOR_CUSTOM_ROLES))
        },
    )


class RoleOut(Schema):
    id = ma.fields.String(
        required=True, metadata={"description": "A UUID, or owner/admin/agent for built-in roles"}
    )
    name = ma.fields.String(required=True)
    description = ma.fields.String(allow_none=True)
    permissions = ma.fields.List(ma.fields.String(), required=True)
    built_in = ma.fields.Boolean(required=True)


class RoleList(Schema):
    items = ma.fields.List(ma.fields.Nested(RoleOut), required=True)


class PermissionOut(Schema):
    name = ma.fields.String(required=True, metadata={"example": "contacts:read"})
    description = ma.fields.String(required=True)
    custom_roles = ma.fields.Boolean(
        required=True, metadata={"description": "Whether a custom role may include it"}
    )


class PermissionList(Schema):
    items = ma.fields.List(ma.fields.Nested(PermissionOut), required=True)


def custom_out(role: AccountRole) -> dict:
    return {
        "id": str(role.id),
        "name": role.name,
        "description": role.description,
        "permissions": list(role.permissions),
        "built_in": False,
    }


def _built_in_out(role: Role) -> dict:
    return {
        "id": role.value,
        "name": role.value,
        "description": BUILT_IN_DESCRIPTIONS[role],
        "permissions": sorted(BUILT_IN[role]),
        "built_in": True,
    }


@contextmanager
def _role_errors() -> Iterator[None]:
    """The answers to what creating or changing a role can refuse."""
    try:
        yield
    except InvalidPermissions as exc:
        fail(422, "validation_failed", str(exc), errors={"permissions": [str(exc)]})
    except PermissionMissing as exc:
        deny(*exc.permissions)
    except RoleNameTaken:
        fail(
            409,
            "role_name_taken",
            "This account has a role with that name.",
            errors={"name": ["taken"]},
        )


def _role_or_404(role_id) -> AccountRole:
    role = get_role(db.session, account_id=g.account.id, role_id=role_id)
    if role is None:
        fail(404, "role_not_found", "No such role.")
    return role


@blp.route("")
class Roles(MethodView):
    @blp.response(200, RoleList)
    @requires("members:read")
    def get(self):
        """List the built-in roles and the account's custom roles"""
        custom = [custom_out(r) for r in list_roles(db.session, account_id=g.account.id)]
        return {"items": [_built_in_out(r) for r in Role] + custom}

    @blp.arguments(RoleIn)
    @blp.response(201, RoleOut)
    @blp.errors(409)
    @requires("roles:manage")
    def post(self, data):
        """Create a custom role (its permissions must be ones you hold)"""
        with _role_errors():
            role = create_role(db.session, account_id=g.account.id, grantor=g.permissions, **data)
        audit_change("role", "created", role.id, after=role_snapshot(role))
        db.session.commit()
        return custom_out(role)


@blp.route("/<uuid:role_id>")
class RoleById(MethodView):
    @blp.arguments(RoleIn(partial=True))
    @blp.response(200, RoleOut)
    @blp.errors(409)
    @requires("roles:manage")
    def patch(self, data, role_id):
        """Change a custom role's name, description or permissions (members feel it at once)"""
        role = _role_or_404(role_id)
        before = role_snapshot(role)
        with _role_errors():
            update_role(db.session, role, grantor=g.permissions, **data)
        audit_change("role", "updated", role.id, before=before, after=role_snapshot(role))
        db.session.commit()
        return custom_out(role)

    @blp.response(204)
    @blp.errors(409)
    @requires("roles:manage")
    def delete(self, role_id):
        """Delete a custom role nobody holds (409 role_in_use otherwise)"""
        role = _role_or_404(role_id)
        before = role_snapshot(role)
        try:
            delete_role(db.session, role, grantor=g.permissions)
        except PermissionMissing as exc:
            deny(*exc.permissions)
        except RoleInUse as exc:
            fail(
                409,
                "role_in_use",
                f"The role is held by {exc.members} member(s) and {exc.invitations} open "
                "invitation(s); give them another role (or revoke the invitations) first.",
            )
        audit_change("role", "deleted", role_id, before=before)
        db.session.commit()


@catalogue.route("")
class Permissions(MethodView):
    @catalogue.response(200, PermissionList)
    def get(self):
        """The permission catalogue: every permission a role can grant"""
        authenticate()
        return {
            "items": [
                {
                    "name": name,
                    "description": description,
                    "custom_roles": name not in NOT_FOR_CUSTOM_ROLES,
                }
                for name, description in PERMISSIONS.items()
            ]
        }
