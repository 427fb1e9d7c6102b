"""Accounts: create another one, read, delete and restore one; the caller's own deletion."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, g
from flask.views import MethodView

from accounts.cli import users_cli
from accounts.deletion import (
    DeletedAccount,
    LastOwner,
    NotRestorable,
    delete_account,
    delete_user,
    deleted_accounts_of,
    restore_account,
)
from api.auth import (
    authenticate,
    current_actor,
    current_user,
    require_verified,
    requires,
    tenant_blueprint,
)
from api.authentication import slug_errors
from api.base import Blueprint, Schema
from api.errors import fail
from api.schemas import AccountOut
from audit.user_events import record_user_event
from provisioning.accounts import InvalidSlug, SlugTaken, create_account
from tenants.db import db
from tenants.models import AccountStatus
from tenants.registry import registry
from tenants.scope import activated

blp = Blueprint("accounts", __name__, url_prefix="/v1/accounts", description="Accounts")
current = tenant_blueprint("account", __name__, "", description="The current account")
#: The caller's own deletion and their deleted accounts (also carries ``flask users``).
lifecycle = Blueprint(
    "me_lifecycle",
    __name__,
    url_prefix="/v1/me",
    description="Deleting yourself; your deleted accounts",
    cli_group=None,
)
lifecycle.cli.add_command(users_cli)


class AccountIn(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    slug = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=63))


class MyAccountOut(AccountOut):
    role = ma.fields.String(required=True)


class DeletedAccountOut(Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    slug = ma.fields.String(required=True)
    deleted_at = ma.fields.AwareDateTime(required=True)
    purge_after = ma.fields.AwareDateTime(
        required=True, metadata={"description": "Restorable until then; purged afterwards"}
    )


class DeletedAccountList(Schema):
    items = ma.fields.List(ma.fields.Nested(DeletedAccountOut), required=True)


def _retention_days() -> int:
    return current_app.extensions["turumba.config"].retention_days


def _deleted(deleted: DeletedAccount) -> dict:
    account = deleted.account
    return {
        "id": account.id,
        "name": account.name,
        "slug": account.slug,
        "deleted_at": deleted.deleted_at,
        "purge_after": deleted.purge_after,
    }


@blp.route("")
class Accounts(MethodView):
    @blp.arguments(AccountIn)
    @blp.response(201, MyAccountOut)
    @blp.errors(403, 409)
    def post(self, data):
        """Create another account owned by the caller (provisions its schema)

        Refused with 403 `email_unverified` until the caller has verified their email.
        """
        user = require_verified()
        try:
            account = create_account(db.session, owner_id=user.id, **data)
        except (SlugTaken, InvalidSlug) as exc:
            slug_errors(exc)
        db.session.commit()
        return {**AccountOut().dump(account), "role": "owner"}


@current.route("")
class CurrentAccount(MethodView):
    @current.response(200, MyAccountOut)
    @requires("account:read")
    def get(self):
        """The account named in the path, with the caller's role in it"""
        return {**AccountOut().dump(g.account), "role": g.role}

    @current.response(200, DeletedAccountOut)
    @requires("account:delete")
    def delete(self):
        """Delete the account: hidden at once, restorable by its owners until purged

        The schema and data are kept for the retention period (`TURUMBA_RETENTION_DAYS`,
        see `purge_after`); `POST /v1/accounts/{account_id}/restore` brings it back.
        """
        deleted = delete_account(
            db.session,
            account_id=g.account.id,
            actor=current_actor(),
            retention_days=_retention_days(),
        )
        db.session.commit()
        return _deleted(deleted)


@blp.route("/<uuid:account_id>/restore")
class RestoreAccount(MethodView):
    @blp.response(200, MyAccountOut)
    def post(self, account_id):
        """Restore a deleted account (owners, within the retention period)"""
        user_id = authenticate()
        record = registry().get(account_id)
        if record is None or record.status is not AccountStatus.DELETED:
            fail(404, "account_not_found", "No such deleted account.")
        with activated(record.schema_name):  # the audit entry goes to its schema
            try:
                account = restore_account(
                    db.session,
                    account_id=account_id,
                    user_id=user_id,
                    actor=current_actor(),
                    retention_days=_retention_days(),
                )
            except NotRestorable:
                db.session.rollback()
                fail(404, "account_not_found", "No such deleted account.")
            db.session.commit()
        return {**AccountOut().dump(account), "role": "owner"}


@lifecycle.route("/deleted-accounts")
class DeletedAccounts(MethodView):
    @lifecycle.response(200, DeletedAccountList)
    def get(self):
        """Accounts you own that are deleted but may still be restored"""
        user_id = authenticate()
        deleted = deleted_accounts_of(db.session, user_id=user_id, retention_days=_retention_days())
        return {"items": [_deleted(item) for item in deleted]}


@lifecycle.route("")
class Myself(MethodView):
    @lifecycle.response(204)
    @lifecycle.errors(409)
    def delete(self):
        """Delete your own user: you can no longer log in (an operator may restore you)

        Refused with 409 `last_owner` while you are the only owner of an account: hand
        it over (make someone else owner) or delete that account first.
        """
        user = current_user()
        try:
            delete_user(db.session, user=user)
        except LastOwner as exc:
            fail(
                409,
                "last_owner",
                f"You are the only owner of {len(exc.accounts)} account(s); add another "
                "owner or delete them first.",
                errors={"accounts": [f"{a.name} ({a.id})" for a in exc.accounts]},
            )
        record_user_event(db.session, user_id=user.id, actor=current_actor(), action="user.deleted")
        db.session.commit()
