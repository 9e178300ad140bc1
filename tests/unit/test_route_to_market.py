"""R-TRI-1 and R-TRI-2 as pure rules: which route a partner sells through decides what it may do, and the resale
roles' scopes. No database, no HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.model.entities import Partner, RouteToMarket
from domain.model.principal import RESALE_SCOPES, WHOLESALE_SCOPES, Principal, Role, Scope
from domain.rules.organisations import NewPartner, partner_problems, route_problem

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _partner(route: RouteToMarket) -> Partner:
    return Partner.model_validate({"_id": "ptn_x", "kind": "PARTNER", "name": "X", "subscriptionId": "S",
                                   "routeToMarket": route.value, "createdAt": NOW})


@pytest.mark.parametrize("scope", sorted(WHOLESALE_SCOPES))
def test_r_tri_1_wholesale_work_is_for_wholesale_partners_only(scope: Scope) -> None:
    assert route_problem(_partner(RouteToMarket.WHOLESALE), scope) is None
    assert route_problem(_partner(RouteToMarket.RESALE), scope) is not None


@pytest.mark.parametrize("scope", sorted(RESALE_SCOPES))
def test_r_tri_1_trials_and_orders_are_for_resale_partners_only(scope: Scope) -> None:
    assert route_problem(_partner(RouteToMarket.RESALE), scope) is None
    assert route_problem(_partner(RouteToMarket.WHOLESALE), scope) is not None


def test_r_tri_1_a_partner_stored_before_routes_existed_is_wholesale() -> None:
    stored = Partner.model_validate({"_id": "ptn_old", "kind": "PARTNER", "name": "Old", "subscriptionId": "S",
                                     "createdAt": NOW})
    assert stored.route_to_market is RouteToMarket.WHOLESALE
    assert stored.notification_emails == ()


def test_r_tri_2_sales_admin_has_the_trial_and_order_scopes_and_nothing_wholesale() -> None:
    sales = Principal.from_claims("sales@fjord.example", "ptn_x", ["sales_admin"], None)
    assert sales.scopes == RESALE_SCOPES
    assert sales.is_partner_admin and not sales.is_full_admin
    full = Principal.from_claims("admin@fjord.example", "ptn_x", ["full_admin"], None)
    assert RESALE_SCOPES <= full.scopes and WHOLESALE_SCOPES <= full.scopes
    read_only = Principal.from_claims("ro@fjord.example", "ptn_x", ["read_only_admin"], None)
    assert {Scope.TRIALS_READ, Scope.ORDERS_READ} <= read_only.scopes
    assert not read_only.scopes & {Scope.TRIALS_WRITE, Scope.ORDERS_WRITE}


def test_r_tri_2_sales_admin_needs_an_org() -> None:
    with pytest.raises(ValueError):
        Principal.from_claims("sales@fjord.example", None, [Role.SALES_ADMIN.value], None)


def test_r_not_3_notification_emails_are_checked_each_with_its_index() -> None:
    emails = ("ok@fjord.example", "nope", "OK@fjord.example")
    problems = partner_problems(NewPartner("Fjord", "S", notification_emails=emails))
    assert [(p.code.value, p.field) for p in problems.items] == [
        ("INVALID_EMAIL", ("input", "notificationEmails", "1")),
        ("VALIDATION_FAILED", ("input", "notificationEmails", "2")),
    ]
