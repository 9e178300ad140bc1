"""Who is calling, for HTTP requests and websockets alike: a verified token naming an org that exists.

The token's `alg` picks the key, within a fixed pairing (no algorithm confusion): HS256 only with the gateway's
secret, RS256/ES256 only with the identity provider's keys (when GATEWAY_JWKS_URL is set). Any other
algorithm, `none` included, is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from domain.model.clock import Clock
from domain.model.principal import Principal
from domain.store.driver import DatabaseUnavailable
from gateway.auth import (
    ALGORITHM,
    IDP_ALGORITHMS,
    InvalidToken,
    bearer_token,
    unverified_header,
    verify_idp_token,
    verify_token,
)
from gateway.jwks import JwksKeys

log = logging.getLogger("gateway.auth")

OrgExists = Callable[[str], Awaitable[bool]]
KNOWN_ORG_TTL = timedelta(minutes=5)
KNOWN_ORGS_MAX = 10_000


class KnownOrgs:
    """Orgs recently found to exist, so that authenticating does not read the database on every request.

    Only existence is remembered (orgs are never deleted; the TTL bounds how long a removal done by hand in the
    database would go unnoticed here). A missing org is not remembered: one created a moment later is usable at
    once. The org's own state (a suspended sub-partner) is read fresh by each operation, not here.
    """

    def __init__(self, exists: OrgExists, clock: Clock, *, ttl: timedelta = KNOWN_ORG_TTL,
                 capacity: int = KNOWN_ORGS_MAX) -> None:
        self.exists = exists
        self.clock = clock
        self.ttl = ttl
        self.capacity = capacity
        self._seen: dict[str, datetime] = {}

    async def require(self, org_id: str) -> None:
        """InvalidToken if the org does not exist.

        With the database out of reach the token is let through: every operation reads the caller's org again
        (resolvers.context.Context.caller), refuses an unknown one, and answers SERVICE_UNAVAILABLE meanwhile.
        """
        now = self.clock.now()
        seen = self._seen.get(org_id)
        if seen is not None and now - seen < self.ttl:
            return
        try:
            found = await self.exists(org_id)
        except DatabaseUnavailable as exc:
            log.warning("could not check the token's org %s: %s", org_id, exc)
            return
        if not found:
            self._seen.pop(org_id, None)
            raise InvalidToken("the token's org does not exist")
        if len(self._seen) >= self.capacity:
            self._seen = {o: t for o, t in self._seen.items() if now - t < self.ttl}
            while len(self._seen) >= self.capacity:  # all fresh: drop the oldest
                del self._seen[next(iter(self._seen))]
        self._seen.pop(org_id, None)  # re-inserted last: the dict stays in the order of `now`
        self._seen[org_id] = now


class Authenticator:
    def __init__(self, secret: str, *, orgs: KnownOrgs | None = None, jwks: JwksKeys | None = None,
                 issuer: str | None = None, audience: str | None = None, clock: Clock | None = None) -> None:
        if jwks is not None and (not issuer or not audience):
            raise ValueError("tokens checked against a JWKS need an issuer and an audience")
        self.secret = secret
        self.orgs = orgs
        self.jwks = jwks
        self.issuer = issuer or ""
        self.audience = audience or ""
        # Emailed links (R-NOT-6) expire on the gateway's clock, the one their deadlines are set on.
        self.clock = clock

    async def authenticate(self, authorization: str | None) -> Principal:
        """The caller of an `Authorization` header's value; InvalidToken if it is not a good token."""
        principal = await self.verify(bearer_token(authorization))
        if principal.org_id is not None and self.orgs is not None:
            await self.orgs.require(principal.org_id)
        return principal

    async def verify(self, token: str) -> Principal:
        """The token's principal, once its signature and claims are checked (not its org)."""
        header = unverified_header(token)
        algorithm = header.get("alg")
        if algorithm == ALGORITHM:
            return verify_token(self.secret, token, now=self.clock.now() if self.clock is not None else None)
        if algorithm in IDP_ALGORITHMS and self.jwks is not None:
            kid = header.get("kid")
            if not isinstance(kid, str) or not kid:
                raise InvalidToken("the token names no key (`kid` header)")
            key = await self.jwks.key(kid)
            if key is None:
                raise InvalidToken("the token's key is not one of the identity provider's")
            return verify_idp_token(key, token, issuer=self.issuer, audience=self.audience)
        raise InvalidToken("the token's algorithm is not accepted")

    async def start(self) -> None:
        """Fetch the identity provider's keys ahead of the first request (a failure is logged, not raised)."""
        if self.jwks is not None:
            await self.jwks.prefetch()

    async def close(self) -> None:
        if self.jwks is not None:
            await self.jwks.close()
