"""Bearer tokens: JWT HS256 with the claims of the contract (sub, org, roles, scopes, iat, exp)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from domain.principal import Principal

ALGORITHM = "HS256"


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


def verify_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "roles"]})
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("the token has expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"the token is not valid: {exc}") from exc
    roles, scopes, org = claims.get("roles"), claims.get("scopes"), claims.get("org")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidToken("the `roles` claim must be a list of strings")
    if scopes is not None and (not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes)):
        raise InvalidToken("the `scopes` claim must be a list of strings")
    if org is not None and not isinstance(org, str):
        raise InvalidToken("the `org` claim must be a string")
    try:
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
        return Principal.from_claims(str(claims["sub"]), org, roles, scopes, expires_at)
    except ValueError as exc:
        raise InvalidToken(f"the token's claims are not valid: {exc}") from exc


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise InvalidToken("an `Authorization: Bearer <token>` header is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("the Authorization header must be `Bearer <token>`")
    return token.strip()
