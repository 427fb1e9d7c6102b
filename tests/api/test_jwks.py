"""The published key set verifies our tokens, and signing keys rotate without logging
anybody out."""

from __future__ import annotations

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.config import Config, ConfigError
from identity.tokens import AUDIENCE


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_pem(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def login(client, member) -> dict:
    response = client.post(
        "/v1/auth/login", json={"email": member.email, "password": member.password}
    )
    assert response.status_code == 200, response.json
    return response.json


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_jwks_publishes_the_signing_key(client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response.headers["Cache-Control"]
    (key,) = response.json["keys"]
    assert (key["kty"], key["kid"], key["alg"], key["use"]) == ("RSA", "turumba-1", "RS256", "sig")
    assert key["n"] and key["e"] == "AQAB"
    assert "d" not in key  # never the private part


def test_a_token_validates_with_nothing_but_the_jwks_document(client, account):
    token = login(client, account)["access_token"]
    keys = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json)
    kid = jwt.get_unverified_header(token)["kid"]
    claims = jwt.decode(
        token, keys[kid].key, algorithms=["RS256"], audience=AUDIENCE, issuer="turumba"
    )
    assert claims["sub"] == account.user_id
    assert claims["sid"]


def test_rotation_keeps_old_tokens_valid_until_they_expire(make_app, signup):
    old_key, new_key_ = new_key(), new_key()
    before = make_app(jwt_private_key=private_pem(old_key), jwt_key_id="k-old").test_client()
    member = signup("Rotating")
    old_token = login(before, member)["access_token"]
    assert jwt.get_unverified_header(old_token)["kid"] == "k-old"

    after = make_app(
        jwt_private_key=private_pem(new_key_),
        jwt_key_id="k-new",
        jwt_previous_public_keys=(("k-old", public_pem(old_key)),),
    ).test_client()
    # The token signed with the retired key still works...
    assert after.get("/v1/me/sessions", headers=bearer(old_token)).status_code == 200
    # ...new tokens carry the new kid...
    new_token = login(after, member)["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == "k-new"
    # ...and the key set lists both, the current one first; each verifies its own tokens.
    document = after.get("/.well-known/jwks.json").json
    assert [k["kid"] for k in document["keys"]] == ["k-new", "k-old"]
    keys = jwt.PyJWKSet.from_dict(document)
    for token, kid in ((old_token, "k-old"), (new_token, "k-new")):
        jwt.decode(token, keys[kid].key, algorithms=["RS256"], audience=AUDIENCE)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(old_token, keys["k-new"].key, algorithms=["RS256"], audience=AUDIENCE)

    # Once the old key is dropped from configuration, its tokens are refused.
    dropped = make_app(jwt_private_key=private_pem(new_key_), jwt_key_id="k-new").test_client()
    refused = dropped.get("/v1/me/sessions", headers=bearer(old_token))
    assert (refused.status_code, refused.json["code"]) == (401, "invalid_token")
    assert dropped.get("/v1/me/sessions", headers=bearer(new_token)).status_code == 200


def test_a_token_signed_by_an_unknown_key_with_a_known_kid_is_refused(client, account):
    claims = jwt.decode(account.token, options={"verify_signature": False}, audience=AUDIENCE)
    forged = jwt.encode(claims, new_key(), algorithm="RS256", headers={"kid": "turumba-1"})
    response = client.get("/v1/me/sessions", headers=bearer(forged))
    assert (response.status_code, response.json["code"]) == (401, "invalid_token")


BASE = {
    "TURUMBA_DATABASE_URL": "postgres://u@db/turumba",
    "TURUMBA_REDIS_URL": "redis://cache:6379/0",
    "TURUMBA_JWT_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\\nabc\\n-----END PRIVATE KEY-----",
}


def test_previous_public_keys_come_inline_or_from_files(tmp_path):
    first, second = public_pem(new_key()), public_pem(new_key())
    path = tmp_path / "second.pem"
    path.write_text(second)
    inline = first.replace("\n", "\\n")
    config = Config.from_env(
        {**BASE, "TURUMBA_JWT_PREVIOUS_PUBLIC_KEYS": f"k1={inline}, k2={path}"}
    )
    assert config.jwt_previous_public_keys == (("k1", first), ("k2", second))
    assert Config.from_env(BASE).jwt_previous_public_keys == ()
    with pytest.raises(ConfigError, match="kid=PEM"):
        Config.from_env({**BASE, "TURUMBA_JWT_PREVIOUS_PUBLIC_KEYS": "no-equals-sign"})
    with pytest.raises(ConfigError, match="cannot read"):
        Config.from_env({**BASE, "TURUMBA_JWT_PREVIOUS_PUBLIC_KEYS": "k=" + str(tmp_path / "x")})
