"""Bearer tokens: JWTs with the claims of the contract (sub, org, roles, scopes, iat, nbf, exp).

HS256 tokens are signed with the gateway's own secret (GATEWAY_JWT_SECRET: dev, tests, the `token` command);
RS256 and ES256 tokens come from an identity provider and are checked against its published keys (gateway.jwks),
its issuer and the gateway's audience. Anything wrong with a token, whatever its values, is InvalidToken.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from domain.model.principal import LinkGrant, LinkPurpose, Principal

ALGORITHM = "HS256"
IDP_ALGORITHMS = ("RS256", "ES256")
# The identity provider's clock is not ours: its tokens get this much slack on exp, nbf and iat. The gateway's own
# HS256 tokens get none (they are minted on the gateway's clock).
IDP_LEEWAY = timedelta(seconds=30)
# The last instant a datetime can hold; a later `exp` is nonsense, not "never expires".
MAX_TIMESTAMP = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()


class InvalidToken(Exception):
    """Missing, malformed, badly signed or expired: the caller is not authenticated."""


def issue_token(secret: str, *, subject: str, org: str | None, roles: list[str], ttl: timedelta,
                scopes: list[str] | None = None) -> str:
    now = datetime.now(UTC)
    claims: dict[str, object] = {"sub": subject, "roles": roles, "iat": now, "exp": now + ttl}
    if org:
        claims["org"] = org
    if scopes is not None:
        claims["scopes"] = scopes
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def issue_link_token(secret: str, *, purpose: LinkPurpose, recipient: str, owner_org_id: str, entity_id: str,
                     version: int, expires_at: datetime) -> str:
    """R-NOT-6: the token of an emailed link, signed like the gateway's API tokens. Its `exp` is on the gateway's
    (injectable) clock, as the deadline it stands for; it has no `iat`/`nbf` for the same reason."""
    claims: dict[str, object] = {"sub": recipient, "roles": [purpose.value], "org": owner_org_id, "ent": entity_id,
                                 "lv": version, "exp": int(expires_at.timestamp())}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str, *, now: datetime | None = None) -> Principal:
    """An HS256 token signed with the gateway's secret: an API token, or an emailed link's (R-NOT-6), whose `exp`
    is read on `now` (the gateway's clock; default: the system's)."""
    claims = decode(token, secret, [ALGORITHM], verify_exp=False)
    if _is_link(claims):
        return link_principal_of(claims, now or datetime.now(UTC))
    _check_exp(claims, datetime.now(UTC))
    return principal_of(claims)


def _is_link(claims: dict[str, Any]) -> bool:
    roles = claims.get("roles")
    return isinstance(roles, list) and any(r in _LINK_ROLES for r in roles)


_LINK_ROLES = frozenset(p.value for p in LinkPurpose)


def _check_exp(claims: dict[str, Any], now: datetime) -> None:
    exp = claims.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float) or not math.isfinite(exp):
        raise InvalidToken("the `exp` claim must be a number of seconds")
    if exp <= now.timestamp():
        raise InvalidToken("the token has expired")


def link_principal_of(claims: dict[str, Any], now: datetime) -> Principal:
    """R-NOT-6: an emailed link's caller: no org, role or scope, only the grant of one entity's link operations.
    A token mixing a link role with any other role is refused (a link never passes as an admin)."""
    _check_exp(claims, now)
    roles, subject, org, entity, version = (claims.get(k) for k in ("roles", "sub", "org", "ent", "lv"))
    if not isinstance(roles, list) or len(roles) != 1 or "scopes" in claims:
        raise InvalidToken("a link token names exactly one link role and no scopes")
    if not isinstance(subject, str) or not subject or not isinstance(org, str) or not org \
            or not isinstance(entity, str) or not entity or isinstance(version, bool) or not isinstance(version, int):
        raise InvalidToken("a link token needs `sub`, `org`, `ent` and `lv`")
    grant = LinkGrant(LinkPurpose(roles[0]), entity, org, version, subject)
    return Principal(subject, None, frozenset(), frozenset(), None, link=grant)


def verify_idp_token(key: jwt.PyJWK, token: str, *, issuer: str, audience: str) -> Principal:
    """An RS256/ES256 token signed with one of the identity provider's keys (whose algorithm it must name)."""
    return principal_of(decode(token, key, list(IDP_ALGORITHMS), issuer=issuer, audience=audience,
                               leeway=IDP_LEEWAY, require=["iss", "aud"]))


def unverified_header(token: str) -> dict[str, Any]:
    """The token's header, read before its signature is checked (to choose the key): trust nothing in it."""
    _compact(token)
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"the token is not valid: {exc}") from exc


def decode(token: str, key: str | jwt.PyJWK, algorithms: list[str], *, issuer: str | None = None,
           audience: str | None = None, leeway: timedelta = timedelta(0), require: list[str] | None = None,
           verify_exp: bool = True) -> dict[str, Any]:
    """The token's claims once its signature, algorithm, exp, nbf, iat (and iss, aud when given) are checked."""
    _compact(token)
    try:
        return jwt.decode(token, key, algorithms=algorithms, issuer=issuer, audience=audience, leeway=leeway,
                          options={"require": ["exp", "sub", "roles", *(require or [])], "verify_exp": verify_exp})
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("the token has expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"the token is not valid: {exc}") from exc


def principal_of(claims: dict[str, Any]) -> Principal:
    """The caller a verified token names; InvalidToken for any claim of the wrong type or out of range."""
    for name in ("exp", "nbf", "iat"):
        # RFC 7519 NumericDate: a JSON number. PyJWT also takes "123" (and true as 1); we do not.
        value = claims.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not math.isfinite(value)):
            raise InvalidToken(f"the `{name}` claim must be a number of seconds")
    exp = claims["exp"]
    if not 0 < exp <= MAX_TIMESTAMP:
        raise InvalidToken("the `exp` claim is out of range")
    subject, roles, scopes, org = claims["sub"], claims["roles"], claims.get("scopes"), claims.get("org")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("the `sub` claim must be a non-empty string")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidToken("the `roles` claim must be a list of strings")
    if scopes is not None and (not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes)):
        raise InvalidToken("the `scopes` claim must be a list of strings")
    if org is not None and not isinstance(org, str):
        raise InvalidToken("the `org` claim must be a string")
    try:
        return Principal.from_claims(subject, org, roles, scopes, datetime.fromtimestamp(exp, UTC))
    except ValueError as exc:
        raise InvalidToken(f"the token's claims are not valid: {exc}") from exc


def _compact(token: str) -> None:
    # A compact JWS is ASCII (base64url and dots); anything else (a lone surrogate from a websocket's JSON, say)
    # would fail inside PyJWT with an encoding error rather than as a bad token.
    if not token.isascii():
        raise InvalidToken("the token is not valid: not a compact JWS")


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise InvalidToken("an `Authorization: Bearer <token>` header is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("the Authorization header must be `Bearer <token>`")
    return token.strip()
