"""Tokens from an identity provider: RS256/ES256, checked against its JWKS served for real on loopback.

The provider is a small Starlette app under uvicorn (tests.api.live.serving) that counts how often its keys are
fetched; its keys are generated here. The gateway's clock (a FixedClock) drives the key cache; PyJWT checks
`exp` and `nbf` against the real time, so tokens are minted on it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from websockets.asyncio.client import connect

from domain.model.clock import FixedClock
from domain.store.driver import Driver
from gateway.app import create_app
from gateway.auth import IDP_LEEWAY
from gateway.jwks import COOLDOWN, MAX_AGE
from gateway.runtime import Runtime
from gateway.settings import load_settings
from tests.api.live import free_port, serving
from tests.api.test_ws_auth import LEGACY, TRANSPORT, expected_messages, refused
from tests.conftest import JWT_SECRET, NOW, CommandCounter, Demo, Gateway

ISSUER = "https://idp.example.test/"
AUDIENCE = "wholesale-gateway"
TYPENAME = "{ __typename }"
VIEWER = "{ viewer { orgId roles } }"
DEADLINE_S = 30.0  # a failure bound, not a timing assertion


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str  # RS256 or ES256
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    @property
    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        data = (RSAAlgorithm.to_jwk(public, as_dict=True) if isinstance(public, rsa.RSAPublicKey)
                else ECAlgorithm.to_jwk(public, as_dict=True))
        return {**data, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    @property
    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(claims, self.private, algorithm=self.algorithm, headers={"kid": self.kid, **header})


def rsa_key(kid: str) -> SigningKey:
    return SigningKey(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def ec_key(kid: str) -> SigningKey:
    return SigningKey(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))


@dataclass(frozen=True)
class Keys:
    rsa: SigningKey
    ec: SigningKey
    rotated: SigningKey
    rotated_again: SigningKey
    stranger: SigningKey  # never published
    impostor: SigningKey  # another private key claiming the published RSA key's kid


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(rsa_key("rsa-1"), ec_key("ec-1"), rsa_key("rsa-2"), ec_key("ec-2"), rsa_key("stranger"),
                rsa_key("rsa-1"))


@dataclass
class IdentityProvider:
    """The provider's JWKS endpoint: publishes `published`, counts `hits`, answers 503 while `failing`."""

    published: list[SigningKey]
    url: str = ""
    hits: int = 0
    failing: bool = False
    stop: Callable[[], Awaitable[None]] = field(default=lambda: _nothing())

    async def jwks(self, _: Request) -> JSONResponse:
        self.hits += 1
        if self.failing:
            return JSONResponse({"error": "temporarily unavailable"}, status_code=503)
        return JSONResponse({"keys": [key.jwk for key in self.published]})


async def _nothing() -> None:
    return None


@pytest.fixture
async def idp(keys: Keys) -> AsyncIterator[IdentityProvider]:
    provider = IdentityProvider([keys.rsa, keys.ec])
    async with contextlib.AsyncExitStack() as stack:
        ws_url = await stack.enter_async_context(serving(Starlette(routes=[Route("/jwks", provider.jwks)])))
        provider.url = ws_url.replace("ws://", "http://").removesuffix("/graphql") + "/jwks"
        provider.stop = stack.aclose  # the endpoint goes away: connections are refused
        yield provider


@asynccontextmanager
async def gateway_trusting(jwks_url: str, mongo_uri: str, driver: Driver, tmp_path: Path) -> AsyncIterator[Gateway]:
    """The conftest's gateway, also taking the tokens of the identity provider at `jwks_url`."""
    settings = load_settings(mongodb_uri=mongo_uri, database=f"t_{uuid.uuid4().hex[:12]}", jwt_secret=JWT_SECRET,
                             data_dir=tmp_path, workers=0, engine_latency_ms=0, driver=driver, jwks_url=jwks_url,
                             jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    clock = FixedClock(NOW)
    commands = CommandCounter()
    runtime = Runtime(settings, clock=clock, listeners=[commands])
    app = create_app(runtime)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway.test") as http:
            yield Gateway(app, runtime, http, commands, clock)


@pytest.fixture
async def gateway(idp: IdentityProvider, mongo_uri: str, driver: Driver, tmp_path: Path) -> AsyncIterator[Gateway]:
    async with gateway_trusting(idp.url, mongo_uri, driver, tmp_path) as trusting:
        yield trusting


def claims(org: str | None = None, **overrides: Any) -> dict[str, Any]:
    """What the provider puts in its tokens (None removes a claim); a platform admin's unless `org` is given."""
    now = int(time.time())
    base: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": "admin@partner.example", "iat": now,
                            "exp": now + 3600, "roles": ["full_admin"] if org else ["platform_admin"], "org": org}
    return {k: v for k, v in {**base, **overrides}.items() if v is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    """A token made by hand: HMAC-SHA256 with `key` as the secret, or no signature at all."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = b"" if key is None else hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


async def status_of(gateway: Gateway, token: str, query: str = TYPENAME) -> int:
    response = await gateway.post(token, query)
    if response.status_code == 401:
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert response.headers["www-authenticate"].startswith("Bearer")
    return response.status_code


def jwks_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "gateway.auth" and r.levelno == logging.WARNING and "keys" in r.getMessage()]


async def test_rs256_and_es256_tokens_of_the_provider_are_accepted_with_the_keys_fetched_once_at_start_up(
        gateway: Gateway, demo: Demo, idp: IdentityProvider, keys: Keys) -> None:
    assert idp.hits == 1
    for key in (keys.rsa, keys.ec):
        data = await gateway.execute(key.sign(claims(demo.partner)), VIEWER)
        assert data["viewer"] == {"orgId": demo.partner, "roles": ["full_admin"]}, key.algorithm
    assert idp.hits == 1
    # The gateway's own HS256 tokens still work beside them.
    assert await status_of(gateway, gateway.token(None, "platform_admin")) == 200


async def test_the_provider_s_clock_may_differ_from_ours_by_the_leeway(gateway: Gateway, keys: Keys) -> None:
    now, slack = int(time.time()), int(IDP_LEEWAY.total_seconds())
    assert await status_of(gateway, keys.rsa.sign(claims(exp=now - slack // 3, nbf=now + slack // 3))) == 200
    assert await status_of(gateway, keys.rsa.sign(claims(exp=now - 4 * slack))) == 401
    assert await status_of(gateway, keys.rsa.sign(claims(nbf=now + 4 * slack))) == 401
    assert await status_of(gateway, keys.rsa.sign(claims(iat=now + 4 * slack))) == 401


async def test_every_bad_token_is_401(gateway: Gateway, keys: Keys) -> None:
    good = keys.rsa.sign(claims())
    header, payload, signature = good.split(".")
    escalated = b64(json.dumps(claims(roles=["platform_admin", "compliance_reviewer"], sub="root")).encode())
    bad = {
        "wrong issuer": keys.rsa.sign(claims(iss="https://evil.example.test/")),
        "no issuer": keys.rsa.sign(claims(iss=None)),
        "wrong audience": keys.ec.sign(claims(aud="someone-else")),
        "no audience": keys.ec.sign(claims(aud=None)),
        "expired": keys.ec.sign(claims(exp=int(time.time()) - 3600)),
        "not yet valid": keys.rsa.sign(claims(nbf=int(time.time()) + 3600)),
        "unknown kid": keys.stranger.sign(claims()),
        "no kid": jwt.encode(claims(), keys.rsa.private, algorithm="RS256"),
        "another key under a published kid": keys.impostor.sign(claims()),
        "tampered payload": f"{header}.{escalated}.{signature}",
        "tampered signature": f"{header}.{payload}.{b64(bytes(256))}",
        "alg none": unsigned({"alg": "none", "kid": keys.rsa.kid}, claims(), None),
        "HS256 keyed with the RSA public key": unsigned({"alg": "HS256", "kid": keys.rsa.kid, "typ": "JWT"},
                                                        claims(), keys.rsa.public_pem),
        "HS256 keyed with the EC public key": unsigned({"alg": "HS256", "kid": keys.ec.kid}, claims(),
                                                       keys.ec.public_pem),
        "RS256 header on the EC key's kid": unsigned({"alg": "RS256", "kid": keys.ec.kid}, claims(), None),
        "ES256 header on the RSA key's kid": unsigned({"alg": "ES256", "kid": keys.rsa.kid}, claims(), None),
        "RS512 by the RSA key": jwt.encode(claims(), keys.rsa.private, algorithm="RS512",
                                           headers={"kid": keys.rsa.kid}),
        "PS256 by the RSA key": jwt.encode(claims(), keys.rsa.private, algorithm="PS256",
                                           headers={"kid": keys.rsa.kid}),
        "exp beyond any date": keys.rsa.sign(claims(exp=10**30)),
        "an org that does not exist": keys.rsa.sign(claims("ptn_" + "f" * 24)),
    }
    statuses = {name: await status_of(gateway, token) for name, token in bad.items()}
    assert statuses == dict.fromkeys(bad, 401)


async def test_a_new_key_is_fetched_once_and_unknown_kids_refetch_at_most_once_a_minute(
        gateway: Gateway, idp: IdentityProvider, keys: Keys) -> None:
    assert idp.hits == 1  # at start-up
    idp.published = [keys.rsa, keys.ec, keys.rotated]  # the provider rotates: a new key, and signs with it
    assert await status_of(gateway, keys.rotated.sign(claims())) == 200
    assert idp.hits == 2
    assert await status_of(gateway, keys.rotated.sign(claims())) == 200
    assert idp.hits == 2

    idp.published.append(keys.rotated_again)  # a second unknown kid within the minute: refused, no fetch
    assert await status_of(gateway, keys.rotated_again.sign(claims())) == 401
    assert await status_of(gateway, keys.stranger.sign(claims())) == 401
    assert idp.hits == 2

    gateway.clock.advance(COOLDOWN)
    assert await status_of(gateway, keys.rotated_again.sign(claims())) == 200
    assert idp.hits == 3
    assert await status_of(gateway, keys.stranger.sign(claims())) == 401
    assert idp.hits == 3


async def test_a_key_the_provider_withdrew_is_refused_once_the_keys_held_are_old(
        gateway: Gateway, idp: IdentityProvider, keys: Keys) -> None:
    idp.published = [keys.ec]
    assert await status_of(gateway, keys.rsa.sign(claims())) == 200  # still held
    gateway.clock.advance(MAX_AGE)
    assert await status_of(gateway, keys.rsa.sign(claims())) == 401
    assert await status_of(gateway, keys.ec.sign(claims())) == 200
    assert idp.hits == 2


async def test_a_provider_that_is_down_means_401_for_keys_not_held_and_a_warning_never_a_500(
        gateway: Gateway, idp: IdentityProvider, keys: Keys, caplog: pytest.LogCaptureFixture) -> None:
    idp.published.append(keys.rotated)
    idp.failing = True
    with caplog.at_level(logging.WARNING, logger="gateway.auth"):
        assert await status_of(gateway, keys.rotated.sign(claims())) == 401
        assert len(jwks_warnings(caplog)) == 1 and "503" in jwks_warnings(caplog)[0]
        assert await status_of(gateway, keys.rsa.sign(claims())) == 200  # the keys held go on working

        await idp.stop()
        gateway.clock.advance(COOLDOWN)
        assert await status_of(gateway, keys.rotated.sign(claims())) == 401
        assert len(jwks_warnings(caplog)) == 2
        gateway.clock.advance(MAX_AGE)  # old keys that cannot be refreshed are kept
        assert await status_of(gateway, keys.ec.sign(claims())) == 200
        assert len(jwks_warnings(caplog)) == 3


async def test_a_provider_down_at_start_up_is_logged_the_gateway_starts_and_the_first_token_fetches_again(
        idp: IdentityProvider, keys: Keys, mongo_uri: str, driver: Driver, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    idp.failing = True
    with caplog.at_level(logging.WARNING, logger="gateway.auth"):
        async with gateway_trusting(idp.url, mongo_uri, driver, tmp_path) as gateway:
            assert len(jwks_warnings(caplog)) == 1 and idp.hits == 1
            assert await status_of(gateway, gateway.token(None, "platform_admin")) == 200
            idp.failing = False  # back: the start-up failure did not start the cooldown
            assert await status_of(gateway, keys.ec.sign(claims())) == 200
            assert idp.hits == 2


async def test_a_provider_out_of_reach_at_start_up_does_not_stop_the_gateway(
        keys: Keys, mongo_uri: str, driver: Driver, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/jwks"
    with caplog.at_level(logging.WARNING, logger="gateway.auth"):
        async with gateway_trusting(nowhere, mongo_uri, driver, tmp_path) as gateway:
            assert await status_of(gateway, keys.rsa.sign(claims())) == 401
            assert await status_of(gateway, gateway.token(None, "platform_admin")) == 200
    assert len(jwks_warnings(caplog)) == 2  # at start-up, and for the token


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_websockets_take_the_provider_s_tokens_and_refuse_bad_ones_with_4403(
        gateway: Gateway, keys: Keys, protocol: str) -> None:
    async with serving(gateway.app) as url:
        for key in (keys.rsa, keys.ec):
            async with connect(url, subprotocols=[protocol]) as ws:  # type: ignore[list-item]
                init = {"type": "connection_init", "payload": {"authorization": f"Bearer {key.sign(claims())}"}}
                await ws.send(json.dumps(init))
                async with asyncio.timeout(DEADLINE_S):
                    assert json.loads(await ws.recv())["type"] == "connection_ack", key.algorithm
        for token in (keys.ec.sign(claims(aud="someone-else")), keys.stranger.sign(claims()),
                      unsigned({"alg": "HS256", "kid": keys.rsa.kid}, claims(), keys.rsa.public_pem)):
            assert await refused(url, protocol, token) == (expected_messages(protocol), 4403)
