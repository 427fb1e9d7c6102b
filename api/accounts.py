"""Accounts: create another one, and read the one you are in."""

from __future__ import annotations

import marshmallow as ma
from flask import g
from flask.views import MethodView

from api.auth import current_user, requires, tenant_blueprint
from api.authentication import slug_errors
from api.base import Blueprint, Schema
from api.schemas import AccountOut
from provisioning.accounts import InvalidSlug, SlugTaken, create_account
from tenants.db import db

blp = Blueprint("accounts", __name__, url_prefix="/v1/accounts", description="Accounts")
current = tenant_blueprint("account", __name__, "", description="The current account")


class AccountIn(Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    slug = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=63))


class MyAccountOut(AccountOut):
    role = ma.fields.String(required=True)


@blp.route("")
class Accounts(MethodView):
    @blp.arguments(AccountIn)
    @blp.response(201, MyAccountOut)
    @blp.errors(409)
    def post(self, data):
        """Create another account owned by the caller (provisions its schema)"""
        user = current_user()
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
