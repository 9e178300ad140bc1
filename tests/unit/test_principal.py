from __future__ import annotations

import pytest

from domain.model.principal import Principal, Role, Scope


def test_full_admin_has_every_scope() -> None:
    assert Principal.from_claims("a", "ptn_x", ["full_admin"], None).scopes == frozenset(Scope)


def test_read_only_admin_has_only_read_scopes() -> None:
    scopes = Principal.from_claims("a", "ptn_x", ["read_only_admin"], None).scopes
    assert scopes and all(s.value.endswith("_read") for s in scopes)
    assert Scope.CUSTOMERS_WRITE not in scopes


def test_explicit_scopes_replace_the_derived_ones() -> None:
    p = Principal.from_claims("a", "ptn_x", ["full_admin"], ["wholesale_customers_read"])
    assert p.scopes == {Scope.CUSTOMERS_READ}


def test_platform_roles_need_no_org_and_carry_no_partner_scopes() -> None:
    p = Principal.from_claims("ops", None, ["platform_admin"], None)
    assert p.has(Role.PLATFORM_ADMIN) and p.scopes == frozenset() and p.org_id is None


@pytest.mark.parametrize(
    ("org", "roles", "scopes"),
    [(None, ["full_admin"], None), ("ptn_x", [], None), ("ptn_x", ["superuser"], None),
     ("ptn_x", ["full_admin"], ["wholesale_everything"])],
)
def test_bad_claims_are_refused(org: str | None, roles: list[str], scopes: list[str] | None) -> None:
    with pytest.raises(ValueError):
        Principal.from_claims("a", org, roles, scopes)
