"""R-TRI-2: the sales_admin limit (only what it created) as a rule, and the events it may read without the customers
scope: its own org's trial, order and device shipment events that carry its `sub` as their creator."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.model.entities import OrgKind, Partner, RouteToMarket
from domain.model.principal import Principal, Role
from domain.rules.tenancy import OWNER, Caller, CreatorReach, creator_limit
from domain.services.reads import event_scope

T0 = datetime(2026, 12, 1, tzinfo=UTC)
RESALE = Partner(id="p1", kind=OrgKind.PARTNER, name="Resale", subscription_id="s-1", created_at=T0,
                 route_to_market=RouteToMarket.RESALE)


def _caller(*roles: Role, scopes: list[str] | None = None) -> Caller:
    return Caller(Principal.from_claims("sam@p1.example", "p1", [r.value for r in roles], scopes), RESALE)


def test_r_tri_2_the_sales_admin_limit_and_its_events() -> None:
    assert creator_limit(_caller(Role.SALES_ADMIN).principal) == "sam@p1.example"
    for admin in (Role.FULL_ADMIN, Role.READ_ONLY_ADMIN):  # an admin role lifts the limit
        assert creator_limit(_caller(Role.SALES_ADMIN, admin).principal) is None
    assert event_scope(_caller(Role.SALES_ADMIN)) == CreatorReach(OWNER, "p1", created_by="sam@p1.example")
    assert event_scope(_caller(Role.SALES_ADMIN, scopes=["wholesale_billing_reports_read"])).is_nothing
    assert event_scope(_caller(Role.READ_ONLY_ADMIN)).filter() == {"ownerOrgId": "p1"}
    reach = CreatorReach(OWNER, "p1", created_by="sam@p1.example")
    mine = {"ownerOrgId": "p1", "entityType": "TRIAL", "details": {"createdBy": "sam@p1.example"}}
    assert reach.admits(mine) and reach.admits({**mine, "entityType": "DEVICE_SHIPMENT"})
    for other in ({**mine, "ownerOrgId": "p2"}, {**mine, "details": {"createdBy": "sue@p1.example"}},
                  {**mine, "details": {}}, {**mine, "entityType": "CUSTOMER"}):
        assert not reach.admits(other), other
    assert reach.filter() == {"ownerOrgId": "p1", "entityType": {"$in": ["TRIAL", "ORDER", "DEVICE_SHIPMENT"]},
                              "details.createdBy": "sam@p1.example"}
