from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from domain.model.principal import Role
from gateway.auth import InvalidToken, bearer_token, issue_token, verify_token

SECRET = "unit-secret-0123456789-0123456789-0123456789-0123456789-0123456789"


def test_issued_token_verifies_to_its_principal() -> None:
    token = issue_token(SECRET, subject="a@b.c", org="ptn_1", roles=["read_only_admin"], ttl=timedelta(minutes=5))
    principal = verify_token(SECRET, token)
    assert principal.org_id == "ptn_1" and principal.has(Role.READ_ONLY_ADMIN) and principal.subject == "a@b.c"


@pytest.mark.parametrize(
    "token",
    [
        "not.a.jwt",
        issue_token("another-secret-0123456789-0123456789", subject="a", org="o", roles=["full_admin"],
                    ttl=timedelta(minutes=5)),
        issue_token(SECRET, subject="a", org="o", roles=["full_admin"], ttl=timedelta(seconds=-1)),
        jwt.encode({"sub": "a", "roles": ["full_admin"], "org": "o"}, SECRET, algorithm="HS256"),  # no exp
        jwt.encode({"sub": "a", "roles": "full_admin", "org": "o", "exp": 4102444800}, SECRET, algorithm="HS256"),
        jwt.encode({"sub": "a", "roles": ["full_admin"], "org": "o", "exp": 4102444800}, SECRET, algorithm="HS512"),
    ],
)
def test_bad_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token)


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer   "])
def test_authorization_header_must_be_bearer(header: str | None) -> None:
    with pytest.raises(InvalidToken):
        bearer_token(header)


def _signed(**claims: object) -> str:
    base: dict[str, object] = {"sub": "a@b.c", "roles": ["platform_admin"], "exp": 4102444800}
    return jwt.encode({k: v for k, v in {**base, **claims}.items() if v is not ...}, SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 10**30}, {"exp": 2**63}, {"exp": 1e300}, {"exp": 253402300800}, {"exp": -(10**30)},
        {"exp": float("inf")}, {"exp": float("nan")}, {"exp": "4102444800"}, {"exp": True}, {"exp": [1]},
        {"exp": {"at": 1}}, {"exp": None},
        {"iat": 10**30}, {"iat": 1e300}, {"iat": "1"}, {"iat": float("inf")}, {"iat": float("-inf")},
        {"iat": float("nan")}, {"iat": True}, {"iat": [0]},
        {"nbf": 10**30}, {"nbf": 1e300}, {"nbf": "1"}, {"nbf": float("inf")}, {"nbf": float("nan")},
        {"nbf": False}, {"nbf": {}},
        {"sub": 1}, {"sub": ""}, {"sub": ["a"]}, {"sub": {"id": "a"}}, {"sub": True}, {"sub": ...},
        {"roles": None}, {"roles": []}, {"roles": [1]}, {"roles": ["emperor"]}, {"roles": "platform_admin"},
        {"scopes": "x"}, {"scopes": [None]}, {"scopes": ["everything"]},
        {"org": 7}, {"org": ["ptn_1"]}, {"roles": ["full_admin"], "org": ""},
    ],
    ids=repr,
)
def test_a_correctly_signed_token_with_bad_claim_values_is_refused_as_invalid(claims: dict[str, object]) -> None:
    with pytest.raises(InvalidToken):
        verify_token(SECRET, _signed(**claims))


@pytest.mark.parametrize("token", ["eyJ\ud800.a.b", "é.é.é", "a\x00.b.c", "", ".", "..", "a.b.c.d"])
def test_a_token_that_is_not_a_compact_jws_is_refused_as_invalid(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token)


@pytest.mark.parametrize("claims", [{"exp": 4102444800.5}, {"iat": 1.5e9, "nbf": 1.5e9}, {"iat": -1}])
def test_numeric_dates_may_be_fractional_or_in_the_far_past(claims: dict[str, object]) -> None:
    assert verify_token(SECRET, _signed(**claims)).subject == "a@b.c"
