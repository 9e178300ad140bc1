from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from gateway.auth import InvalidToken, issue_token
from gateway.authentication import Authenticator
from gateway.jwks import parse_jwks
from gateway.settings import SettingsError, load_settings

SECRET = "unit-secret-0123456789-0123456789-0123456789-0123456789"
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC = ec.generate_private_key(ec.SECP256R1())
RSA_JWK: dict[str, Any] = RSAAlgorithm.to_jwk(RSA.public_key(), as_dict=True)
EC_JWK: dict[str, Any] = ECAlgorithm.to_jwk(EC.public_key(), as_dict=True)
P384_JWK: dict[str, Any] = ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP384R1()).public_key(), as_dict=True)


def b64(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def document(*keys: object) -> bytes:
    return json.dumps({"keys": list(keys)}).encode()


def test_signing_keys_for_rs256_and_es256_are_kept_by_kid() -> None:
    keys = parse_jwks(document({**RSA_JWK, "kid": "r", "alg": "RS256", "use": "sig"}, {**EC_JWK, "kid": "e"}))
    assert {kid: key.algorithm_name for kid, key in keys.items()} == {"r": "RS256", "e": "ES256"}


@pytest.mark.parametrize(
    "jwk",
    [
        RSA_JWK,  # no kid
        {**RSA_JWK, "kid": ""},
        {**RSA_JWK, "kid": "r", "use": "enc"},
        {**RSA_JWK, "kid": "r", "alg": "RS512"},
        {**RSA_JWK, "kid": "r", "alg": "PS256"},
        {**EC_JWK, "kid": "e", "alg": "RS256"},
        {**P384_JWK, "kid": "e"},
        {**P384_JWK, "kid": "e", "alg": "ES256"},
        {"kty": "oct", "kid": "s", "k": "c2VjcmV0"},  # a shared secret would make HS256 tokens verifiable with it
        {"kty": "RSA", "kid": "r", "e": "AQAB"},
        {"kty": "EC", "kid": "e", "crv": "P-256", "x": "!!", "y": "??"},
        {"kid": "r"},
        "not a key",
        None,
    ],
    # Not repr: the generated keys differ between processes, and xdist workers must collect the same ids.
    ids=["no-kid", "empty-kid", "use-enc", "rsa-as-rs512", "rsa-as-ps256", "ec-as-rs256", "p384", "p384-as-es256",
         "oct-secret", "rsa-without-n", "ec-bad-coordinates", "no-kty", "a-string", "null"],
)
def test_keys_we_cannot_or_must_not_use_are_skipped_and_the_others_kept(jwk: object) -> None:
    assert set(parse_jwks(document(jwk, {**EC_JWK, "kid": "good"}))) == {"good"}


@pytest.mark.parametrize("body", [b"", b"<html>", b"[]", b'{"keys": {}}', b'{"other": []}', b"[" * 100_000])
def test_a_document_that_is_not_a_jwks_is_a_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_jwks(body)


async def test_without_a_jwks_only_hs256_tokens_signed_with_the_secret_are_taken() -> None:
    authenticator = Authenticator(SECRET)
    ok = issue_token(SECRET, subject="a", org=None, roles=["platform_admin"], ttl=timedelta(minutes=5))
    assert (await authenticator.authenticate(f"Bearer {ok}")).subject == "a"
    claims = {"sub": "a", "roles": ["platform_admin"], "exp": 4102444800}
    for token in (jwt.encode(claims, RSA, algorithm="RS256", headers={"kid": "r"}),
                  jwt.encode(claims, EC, algorithm="ES256", headers={"kid": "e"}),
                  jwt.encode(claims, SECRET, algorithm="HS384"),
                  f"{b64({'alg': 'none'})}.{b64(claims)}.", f"{b64({'alg': 'HS256'})}.{b64(claims)}."):
        with pytest.raises(InvalidToken):
            await authenticator.authenticate(f"Bearer {token}")


def test_a_jwks_needs_an_issuer_and_an_audience() -> None:
    with pytest.raises(SettingsError, match="GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE"):
        load_settings(jwks_url="https://idp.example/jwks", jwt_audience="gw")
    with pytest.raises(SettingsError, match="GATEWAY_JWT_ISSUER and GATEWAY_JWT_AUDIENCE"):
        load_settings(jwks_url="https://idp.example/jwks", jwt_issuer="https://idp.example/")
    settings = load_settings(jwks_url="https://idp.example/jwks", jwt_issuer="https://idp.example/", jwt_audience="gw")
    assert (settings.jwks_url, settings.jwt_issuer, settings.jwt_audience) == (
        "https://idp.example/jwks", "https://idp.example/", "gw")


def test_a_jwks_url_must_be_a_url_and_https_in_production() -> None:
    with pytest.raises(SettingsError, match="GATEWAY_JWKS_URL"):
        load_settings(jwks_url="idp.example/jwks", jwt_issuer="i", jwt_audience="a")
    prod: dict[str, object] = {"env": "prod", "jwt_secret": "p" * 32, "mongodb_uri": "mongodb://db:27017",
                               "jwt_issuer": "i", "jwt_audience": "a"}
    with pytest.raises(SettingsError, match="GATEWAY_JWKS_URL must be https"):
        load_settings(jwks_url="http://idp.example/jwks", **prod)
    assert load_settings(jwks_url="https://idp.example/jwks", **prod).jwks_url == "https://idp.example/jwks"
