"""Invitations to join the current account, and accepting one."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, g, request
from flask.views import MethodView

from api.auth import (
    current_actor,
    current_user,
    deny,
    issue_tokens,
    require_verified,
    requires,
    tenant_blueprint,
)
from api.base import Blueprint, Schema
from api.errors import fail
from api.members import CustomRoleRef, RoleChoice, resolve_role
from api.ratelimit import limit
from api.schemas import AccountOut, TokensIfIssued, UserOut
from audit.service import record
from identity.invitations import (
    Accepted,
    AlreadyMember,
    EmailMismatch,
    InvitationError,
    InvitationPending,
    ResendTooSoon,
    accept,
    accept_as_new_user,
    account_of_token,
    get_open_invitation,
    invitation_snapshot,
    invite,
    open_invitations,
    resend,
    revoke,
    status_of,
)
from identity.roles import PermissionMissing
from identity.service import EmailTaken
from tenants.db import db
from tenants.models import AccountRole, Invitation
from tenants.scope import activated

blp = tenant_blueprint(
    "invitations", __name__, "/invitations", description="Invitations to join the account"
)
acceptance = Blueprint(
    "invitation_acceptance",
    __name__,
    url_prefix="/v1/invitations",
    description="Invitations to join the account",
)


class InvitationIn(RoleChoice):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=320))


class InvitationOut(Schema):
    id = ma.fields.UUID(required=True)
    email = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    custom_role = ma.fields.Nested(CustomRoleRef, allow_none=True)
    status = ma.fields.String(required=True, metadata={"enum": ["pending", "expired"]})
    invited_by = ma.fields.UUID(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    expires_at = ma.fields.AwareDateTime(required=True)
    last_sent_at = ma.fields.AwareDateTime(required=True)
    send_count = ma.fields.Integer(required=True)


class InvitationList(Schema):
    items = ma.fields.List(ma.fields.Nested(InvitationOut), required=True)


class AcceptIn(Schema):
    token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    name = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "Without an access token: the new user's name"},
    )
    password = ma.fields.String(
        load_only=True,
        validate=ma.validate.Length(min=8, max=256),
        metadata={"description": "Without an access token: the new user's password"},
    )


class AcceptOut(TokensIfIssued):
    """The membership; plus tokens (like log-in) when the invitation created the user."""

    user = ma.fields.Nested(UserOut, required=True)
    account = ma.fields.Nested(AccountOut, required=True)
    role = ma.fields.String(required=True)
    custom_role = ma.fields.Nested(CustomRoleRef, allow_none=True)


def _public_url() -> str:
    return current_app.extensions["turumba.config"].public_url


def _custom_roles(invitations: list[Invitation]) -> dict:
    ids = {i.custom_role_id for i in invitations if i.custom_role_id}
    if not ids:
        return {}
    return {r.id: r for r in db.session.query(AccountRole).filter(AccountRole.id.in_(ids))}


def _out(invitation: Invitation, roles: dict | None = None) -> dict:
    roles = roles if roles is not None else _custom_roles([invitation])
    return {
        "id": invitation.id,
        "email": invitation.email,
        "role": invitation.role.value,
        "custom_role": roles.get(invitation.custom_role_id),
        "status": status_of(invitation),
        "invited_by": invitation.invited_by,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "last_sent_at": invitation.last_sent_at,
        "send_count": invitation.send_count,
    }


def _invitation_or_404(invitation_id) -> Invitation:
    invitation = get_open_invitation(
        db.session, account_id=g.account.id, invitation_id=invitation_id
    )
    if invitation is None:
        fail(404, "invitation_not_found", "No such open invitation.")
    return invitation


def _already_member():
    fail(
        409,
        "already_member",
        "This person is already a member of the account.",
        errors={"email": ["already a member"]},
    )


def _audit(action: str, invitation: Invitation, *, before=None, after=None, user_id=None):
    record(
        db.session,
        actor=current_actor(user_id),
        action=action,
        target_type="invitation",
        target_id=invitation.id,
        before=before,
        after=after,
    )


@blp.route("")
class Invitations(MethodView):
    @blp.response(200, InvitationList)
    @requires("members:read")
    def get(self):
        """List open invitations (pending or expired), newest first"""
        invitations = open_invitations(db.session, account_id=g.account.id)
        roles = _custom_roles(invitations)
        return {"items": [_out(i, roles) for i in invitations]}

    @blp.arguments(InvitationIn)
    @blp.response(201, InvitationOut)
    @blp.errors(409)
    @requires("members:manage")
    def post(self, data):
        """Invite someone by email with a role (inviting owners needs owners:manage)"""
        inviter = require_verified()
        role, custom = resolve_role(data)
        account = g.account
        try:
            invitation = invite(
                db.session,
                account=account,
                email=data["email"],
                role=role,
                custom_role=custom,
                invited_by=inviter,
                actor=g.permissions,
                public_url=_public_url(),
            )
        except PermissionMissing as exc:
            deny(*exc.permissions)
        except AlreadyMember:
            _already_member()
        except InvitationPending:
            fail(
                409,
                "invitation_pending",
                "An invitation to this email is pending; resend it instead.",
                errors={"email": ["already invited"]},
            )
        _audit("invitation.created", invitation, after=invitation_snapshot(invitation))
        db.session.commit()
        return _out(invitation)


@blp.route("/<uuid:invitation_id>")
class InvitationById(MethodView):
    @blp.response(204)
    @requires("members:manage")
    def delete(self, invitation_id):
        """Revoke an open invitation (its link stops working)"""
        invitation = _invitation_or_404(invitation_id)
        revoke(db.session, invitation)
        _audit("invitation.revoked", invitation, before=invitation_snapshot(invitation))
        db.session.commit()


@blp.route("/<uuid:invitation_id>/resend")
class InvitationResend(MethodView):
    @blp.response(200, InvitationOut)
    @blp.errors(429)
    @requires("members:manage")
    def post(self, invitation_id):
        """Email the invitation again with a new link (the old one stops working)"""
        sender = require_verified()
        invitation = _invitation_or_404(invitation_id)
        try:
            resend(
                db.session,
                invitation,
                account=g.account,
                sent_by=sender,
                actor=g.permissions,
                public_url=_public_url(),
            )
        except PermissionMissing as exc:
            deny(*exc.permissions)
        except ResendTooSoon as exc:
            fail(
                429,
                "resend_too_soon",
                f"This invitation was just sent; try again in {exc.retry_after} seconds.",
                headers={"Retry-After": str(exc.retry_after)},
            )
        db.session.commit()
        return _out(invitation)


@acceptance.route("/accept")
class AcceptInvitation(MethodView):
    @acceptance.doc(
        security=[],
        description="With an access token, the signed-in user (whose email must be the "
        "invited one) joins. Without one, `name` and `password` create the invited user "
        "(email verified by the invitation) and the answer carries tokens like log-in. "
        "Unusable tokens: 400 `invitation_invalid`, 410 `invitation_expired`, "
        "`invitation_revoked` or `invitation_used`.",
    )
    @acceptance.arguments(AcceptIn)
    @acceptance.response(200, AcceptOut)
    @acceptance.errors(400, 401, 403, 409, 410, 429)
    def post(self, data):
        """Accept an invitation, as the signed-in user or as a new user"""
        limit("invitation_accept")
        signed_in = bool(request.headers.get("Authorization"))
        if not signed_in and not ("name" in data and "password" in data):
            fail(
                422,
                "validation_failed",
                "Send an access token, or the name and password of the new user.",
                errors={
                    field: ["Required without an access token."]
                    for field in ("name", "password")
                    if field not in data
                },
            )
        # The audit entry goes to the account's schema: the transaction must begin there.
        account = account_of_token(db.session, data["token"])
        schema = account.schema_name if account else None
        db.session.commit()
        with activated(schema):
            accepted = self._accept(data, signed_in)
            invitation = accepted.invitation
            _audit(
                "invitation.accepted",
                invitation,
                after={**invitation_snapshot(invitation), "user_id": str(accepted.user.id)},
                user_id=accepted.user.id,
            )
            db.session.commit()
        body = {
            "user": accepted.user,
            "account": accepted.account,
            "role": accepted.membership.role.value,
            "custom_role": _custom_roles([invitation]).get(invitation.custom_role_id),
        }
        if not signed_in:
            body.update(issue_tokens(accepted.user.id))
        return body

    @staticmethod
    def _accept(data: dict, signed_in: bool) -> Accepted:
        try:
            if signed_in:
                return accept(db.session, token=data["token"], user=current_user())
            return accept_as_new_user(
                db.session, token=data["token"], name=data["name"], password=data["password"]
            )
        except InvitationError as exc:
            status = 400 if exc.code == "invitation_invalid" else 410
            fail(status, exc.code, _ACCEPT_MESSAGES[exc.code])
        except EmailMismatch:
            fail(
                403,
                "invitation_email_mismatch",
                "This invitation is for another email address; sign in as that user.",
            )
        except EmailTaken:
            fail(
                409,
                "email_taken",
                "A user with this email exists; log in and accept the invitation signed in.",
            )
        except AlreadyMember:
            _already_member()


_ACCEPT_MESSAGES = {
    "invitation_invalid": "This invitation link is not valid.",
    "invitation_expired": "This invitation has expired; ask for a new one.",
    "invitation_revoked": "This invitation was withdrawn.",
    "invitation_used": "This invitation was already accepted.",
}
