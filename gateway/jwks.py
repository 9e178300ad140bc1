"""The identity provider's signing keys (its JWKS document), fetched over HTTP and cached by `kid`.

- A token naming a `kid` we do not hold makes us fetch the document again, at most once per `cooldown` (a minute,
  on the runtime's clock): a flood of made-up `kid`s costs the provider one request a minute, not one each.
- Keys older than `max_age` are fetched again when next used, so that a key the provider withdrew stops being
  accepted; if that fetch fails, the keys held go on being used.
- A provider that is down or answers nonsense is a WARNING in the log; tokens whose key is not held are refused.
- Fetches are asynchronous (httpx), time-limited, and one at a time: concurrent requests wait for the same one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt

from domain.model.clock import Clock

log = logging.getLogger("gateway.auth")

ALGORITHMS = frozenset({"RS256", "ES256"})
COOLDOWN = timedelta(minutes=1)
MAX_AGE = timedelta(minutes=10)
TIMEOUT_S = 5.0
MAX_DOCUMENT_BYTES = 1024 * 1024


class JwksKeys:
    def __init__(self, url: str, clock: Clock, *, cooldown: timedelta = COOLDOWN, max_age: timedelta = MAX_AGE,
                 timeout: float = TIMEOUT_S) -> None:
        self.url = url
        self.clock = clock
        self.cooldown = cooldown
        self.max_age = max_age
        self.timeout = timeout
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: datetime | None = None  # of the keys held
        self._attempted_at: datetime | None = None  # of the last fetch, whatever its outcome
        self._lock = asyncio.Lock()
        self._client: httpx.AsyncClient | None = None

    async def key(self, kid: str) -> jwt.PyJWK | None:
        """The provider's key `kid`, fetching the document again if it is unknown or old (and we may)."""
        fetched_at = self._fetched_at
        if kid not in self._keys or fetched_at is None or self.clock.now() - fetched_at >= self.max_age:
            await self.refresh()
        return self._keys.get(kid)

    async def refresh(self) -> bool:
        """Fetch the document again unless that was tried less than `cooldown` ago; whether new keys came."""
        async with self._lock:
            now = self.clock.now()
            if self._attempted_at is not None and now - self._attempted_at < self.cooldown:
                return False
            self._attempted_at = now
            return await self._load(now)

    async def prefetch(self) -> None:
        """At start-up, to hold the keys before the first request. It does not count against the cooldown: a key
        the provider adds just after (or all of them, if it was down) is fetched for the first token naming it."""
        async with self._lock:
            await self._load(self.clock.now())

    async def _load(self, now: datetime) -> bool:
        keys = await self._fetch()
        if keys is None:
            return False
        self._keys, self._fetched_at = keys, now
        return True

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _fetch(self) -> dict[str, jwt.PyJWK] | None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, headers={"accept": "application/json"})
        try:
            async with self._client.stream("GET", self.url) as response:
                response.raise_for_status()
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise ValueError(f"the document is larger than {MAX_DOCUMENT_BYTES} bytes")
            keys = parse_jwks(body)
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("could not fetch the identity provider's keys from %s: %s", self.url,
                        str(exc) or type(exc).__name__)
            return None
        log.info("fetched %d signing key(s) from %s", len(keys), self.url)
        return keys


def parse_jwks(document: bytes | bytearray) -> dict[str, jwt.PyJWK]:
    """The usable keys of a JWKS document, by kid: signing keys for RS256 or ES256 (P-256) that have a kid.

    Keys of other kinds are skipped (a provider may publish encryption keys, or algorithms we do not take);
    a document that is not a JWKS at all is a ValueError.
    """
    try:
        parsed: Any = json.loads(document)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the document is not JSON: {exc}") from exc
    if not isinstance(parsed, dict) or not isinstance(parsed.get("keys"), list):
        raise ValueError("the document is not a JWKS (an object with a `keys` list)")
    keys: dict[str, jwt.PyJWK] = {}
    for data in parsed["keys"]:
        if not isinstance(data, dict):
            continue
        kid = data.get("kid")
        if not isinstance(kid, str) or not kid or data.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(data)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:  # one bad key does not spoil the others
            log.debug("skipping key %r of the JWKS: %s", kid, exc)
            continue
        if key.algorithm_name in ALGORITHMS and (key.algorithm_name != "ES256" or data.get("crv") == "P-256"):
            keys[kid] = key
    return keys
