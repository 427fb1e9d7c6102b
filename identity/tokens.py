"""Short-lived RS256 access tokens, the MFA step token, widget tokens, and the published
key set.

The private key comes from configuration; the public half is derived from it so the
verifying side can never drift from the signing side. Every token names its key in the
``kid`` header and verification picks the key by ``kid``: rotating the signing key means
configuring the new private key and listing the old public key among the previous ones,
so tokens signed before the rotation keep verifying until they expire. The public keys
are published as a JWKS document (``/.well-known/jwks.json``).

``iat`` carries milliseconds, so a token issued a moment after a password change is told
apart from one issued a moment before it.

Each kind of token has its own audience and ``typ``: an access token is never taken for
an MFA step token or a widget token (a contact's, for the in-app chat widget), nor the
reverse.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

AUDIENCE = "turumba-api"
MFA_AUDIENCE = "turumba-mfa"
WIDGET_AUDIENCE = "turumba-widget"
#: Seconds a widget token stays valid: a visitor's chat survives a month of page loads.
WIDGET_TOKEN_TTL = 30 * 24 * 3600
ALGORITHM = "RS256"
#: Verified access tokens a process remembers (a few hundred bytes each).
VERIFIED_CACHE_SIZE = 10_000


class InvalidToken(Exception):
    """The token is missing, malformed, expired or not ours."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    token_id: str
    expires_at: int
    #: The auth session the token belongs to (``None`` for tokens minted without one).
    session_id: uuid.UUID | None = None
    #: Seconds since the epoch, with milliseconds.
    issued_at: float = 0.0


@dataclass(frozen=True)
class MfaClaims:
    user_id: uuid.UUID
    token_id: str
    expires_at: int


@dataclass(frozen=True)
class WidgetClaims:
    """A chat widget's visitor: one contact, talking through one in-app channel of one
    account."""

    account_id: uuid.UUID
    channel_id: uuid.UUID
    contact_id: uuid.UUID
    token_id: str
    expires_at: int


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """An RSA public key from a public PEM, or the public half of a private PEM."""
    data = pem.encode()
    if b"PRIVATE KEY" in data:
        key = serialization.load_pem_private_key(data, None).public_key()
    else:
        key = serialization.load_pem_public_key(data)
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("only RSA keys are supported")
    return key


class TokenIssuer:
    def __init__(
        self,
        private_key_pem: str,
        *,
        key_id: str,
        issuer: str,
        ttl: int,
        previous_public_keys: Iterable[tuple[str, str]] = (),
        mfa_ttl: int = 300,
    ) -> None:
        self._private = serialization.load_pem_private_key(private_key_pem.encode(), None)
        self.key_id = key_id
        self.issuer = issuer
        self.ttl = ttl
        self.mfa_ttl = mfa_ttl
        #: Access tokens that verified, by their text (see :meth:`verify`).
        self._verified: dict[str, AccessClaims] = {}
        #: kid -> public key; the current key first.
        self._public: dict[str, rsa.RSAPublicKey] = {key_id: self._private.public_key()}
        for kid, pem in previous_public_keys:
            if kid in self._public:
                raise ValueError(f"key id {kid!r} is used twice")
            self._public[kid] = load_public_key(pem)

    # -- access tokens -----------------------------------------------------------------

    def issue(self, user_id: uuid.UUID, *, session_id: uuid.UUID | None = None) -> tuple[str, int]:
        now = time.time()
        claims: dict[str, Any] = {
            "sub": str(user_id),
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": round(now, 3),
            "exp": int(now) + self.ttl,
            "jti": uuid.uuid4().hex,
            "typ": "access",
        }
        if session_id is not None:
            claims["sid"] = str(session_id)
        return self._sign(claims), self.ttl

    def verify(self, token: str) -> AccessClaims:
        """The token's claims if its signature, audience, issuer and expiry check out.

        A client sends the same token with every request until it expires, and the RSA
        signature check is the costliest step of a request's authentication: tokens that
        verified are remembered (by their exact text) and only their expiry is checked
        again. The keys only change with the process's configuration, so a remembered
        verdict cannot go stale before the token expires.
        """
        known = self._verified.get(token)
        if known is not None and time.time() < known.expires_at:  # as PyJWT decides
            return known
        claims = self._decode(token, AUDIENCE, "access")
        try:
            sid = claims.get("sid")
            verified = AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                token_id=claims["jti"],
                expires_at=claims["exp"],
                session_id=uuid.UUID(sid) if sid else None,
                issued_at=float(claims["iat"]),
            )
        except (TypeError, ValueError) as exc:
            raise InvalidToken(str(exc)) from exc
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()  # crude but bounded: the live tokens come back at once
        self._verified[token] = verified
        return verified

    # -- the MFA step token ------------------------------------------------------------

    def issue_mfa(self, user_id: uuid.UUID) -> tuple[str, int]:
        """A short-lived token proving the password step of a log-in succeeded."""
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "iss": self.issuer,
            "aud": MFA_AUDIENCE,
            "iat": now,
            "exp": now + self.mfa_ttl,
            "jti": uuid.uuid4().hex,
            "typ": "mfa",
        }
        return self._sign(claims), self.mfa_ttl

    def verify_mfa(self, token: str) -> MfaClaims:
        claims = self._decode(token, MFA_AUDIENCE, "mfa")
        try:
            return MfaClaims(uuid.UUID(claims["sub"]), claims["jti"], claims["exp"])
        except (TypeError, ValueError) as exc:
            raise InvalidToken(str(exc)) from exc

    # -- widget tokens ----------------------------------------------------------------

    def issue_widget(
        self,
        *,
        account_id: uuid.UUID,
        channel_id: uuid.UUID,
        contact_id: uuid.UUID,
        ttl: int = WIDGET_TOKEN_TTL,
    ) -> tuple[str, int]:
        """A token naming the contact behind a chat widget, its account and channel;
        with the second it expires at."""
        now = int(time.time())
        claims = {
            "sub": str(contact_id),
            "acc": str(account_id),
            "chn": str(channel_id),
            "iss": self.issuer,
            "aud": WIDGET_AUDIENCE,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            "typ": "widget",
        }
        return self._sign(claims), now + ttl

    def verify_widget(self, token: str) -> WidgetClaims:
        claims = self._decode(token, WIDGET_AUDIENCE, "widget")
        try:
            return WidgetClaims(
                account_id=uuid.UUID(claims["acc"]),
                channel_id=uuid.UUID(claims["chn"]),
                contact_id=uuid.UUID(claims["sub"]),
                token_id=claims["jti"],
                expires_at=claims["exp"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidToken(str(exc)) from exc

    # -- keys ---------------------------------------------------------------------------

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public keys as a JSON Web Key Set (current key first)."""
        keys = []
        for kid, key in self._public.items():
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key, as_dict=True)
            keys.append({**jwk, "kid": kid, "alg": ALGORITHM, "use": "sig"})
        return {"keys": keys}

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._private, algorithm=ALGORITHM, headers={"kid": self.key_id})

    def _decode(self, token: str, audience: str, typ: str) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._public.get(kid) if isinstance(kid, str) else None
            if key is None:
                raise InvalidToken("unknown signing key")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        if claims.get("typ") != typ:
            raise InvalidToken(f"not an {typ} token")
        return claims
