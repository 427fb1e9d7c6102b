"""Sign-up and log-in: the two ways to obtain an access token."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from api.auth import issue_tokens
from api.base import Blueprint, Schema
from api.errors import fail
from api.ratelimit import limit
from api.schemas import AccountOut, TokenOut, UserOut
from identity.service import EmailTaken, InvalidCredentials, authenticate, signup
from provisioning.accounts import InvalidSlug, SlugTaken
from tenants.db import db

blp = Blueprint("auth", __name__, url_prefix="/v1/auth", description="Sign up and log in")

PASSWORD = ma.fields.String(
    required=True, load_only=True, validate=ma.validate.Length(min=8, max=256)
)


class SignupIn(Schema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=320))
    password = PASSWORD
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    account_name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    slug = ma.fields.String(
        load_default=None,
        validate=ma.validate.Length(min=1, max=63),
        metadata={"description": "URL-safe account handle; derived from the name when omitted"},
    )


class SignupOut(TokenOut):
    user = ma.fields.Nested(UserOut, required=True)
    account = ma.fields.Nested(AccountOut, required=True)


class LoginIn(Schema):
    email = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=320))
    password = ma.fields.String(required=True, load_only=True)


def slug_errors(exc: SlugTaken | InvalidSlug):
    if isinstance(exc, SlugTaken):
        fail(409, "slug_taken", "That account slug is taken.", errors={"slug": [str(exc)]})
    fail(422, "validation_failed", errors={"slug": [str(exc)]})


@blp.route("/signup")
class Signup(MethodView):
    @blp.doc(security=[])
    @blp.arguments(SignupIn)
    @blp.response(201, SignupOut)
    @blp.errors(409, 429)
    def post(self, data):
        """Create a user and their account (with its own schema); returns a token"""
        limit("signup")
        try:
            user, account = signup(db.session, **data)
        except EmailTaken:
            fail(
                409,
                "email_taken",
                "A user with this email exists; log in instead.",
                errors={"email": ["already registered"]},
            )
        except (SlugTaken, InvalidSlug) as exc:
            slug_errors(exc)
        db.session.commit()
        return {"user": user, "account": account, **issue_tokens(user.id)}


@blp.route("/login")
class Login(MethodView):
    @blp.doc(security=[])
    @blp.arguments(LoginIn)
    @blp.response(200, TokenOut)
    @blp.errors(401, 429)
    def post(self, data):
        """Exchange email and password for an access token"""
        limit("login")
        try:
            user = authenticate(db.session, **data)
        except InvalidCredentials:
            fail(401, "invalid_credentials", "Email or password is wrong.")
        return issue_tokens(user.id)
