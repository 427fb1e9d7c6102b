"""The public keys that verify our access tokens, as a JSON Web Key Set."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from api.auth import token_issuer
from api.base import Blueprint, Schema

blp = Blueprint("jwks", __name__, url_prefix="/.well-known", description="Token verification keys")


class JwkOut(Schema):
    kty = ma.fields.String(required=True, metadata={"example": "RSA"})
    kid = ma.fields.String(required=True)
    alg = ma.fields.String(required=True, metadata={"example": "RS256"})
    use = ma.fields.String(required=True, metadata={"example": "sig"})
    n = ma.fields.String(required=True, metadata={"description": "Modulus, base64url"})
    e = ma.fields.String(required=True, metadata={"description": "Exponent, base64url"})


class JwksOut(Schema):
    keys = ma.fields.List(ma.fields.Nested(JwkOut), required=True)


@blp.route("/jwks.json")
class Jwks(MethodView):
    @blp.doc(security=[])
    @blp.response(200, JwksOut)
    def get(self):
        """The current signing key and the retired ones whose tokens may still be live"""
        return token_issuer().jwks(), 200, {"Cache-Control": "public, max-age=300"}
