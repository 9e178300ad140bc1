from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from domain.principal import Role
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
