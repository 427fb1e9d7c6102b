"""Short-lived RS256 access tokens.

The private key comes from configuration; the public half is derived from it so the
verifying side can never drift from the signing side. ``kid`` is set from the start so
key rotation (and a published JWKS) can be added without invalidating live tokens.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives import serialization

AUDIENCE = "turumba-api"


class InvalidToken(Exception):
    """The token is missing, malformed, expired or not ours."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    token_id: str
    expires_at: int


class TokenIssuer:
    def __init__(self, private_key_pem: str, *, key_id: str, issuer: str, ttl: int) -> None:
        self._private = serialization.load_pem_private_key(private_key_pem.encode(), None)
        self._public = self._private.public_key()
        self.key_id = key_id
        self.issuer = issuer
        self.ttl = ttl

    def issue(self, user_id: uuid.UUID) -> tuple[str, int]:
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
            "typ": "access",
        }
        token = jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": self.key_id})
        return token, self.ttl

    def verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._public,
                algorithms=["RS256"],
                audience=AUDIENCE,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "jti"]},
            )
            if claims.get("typ") != "access":
                raise InvalidToken("not an access token")
            return AccessClaims(uuid.UUID(claims["sub"]), claims["jti"], claims["exp"])
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidToken(str(exc)) from exc
