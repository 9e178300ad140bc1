"""R-TRI-1: a partner's route to market, set by platform_admin at creation and inherited by its sub-partners,
decides whether it runs Wholesale customers (§5 to §8) or resale trials and orders (§10, §12)."""

from __future__ import annotations

import pytest

from gateway.demo import DEMO_RESALE_PARTNER_ID, DEMO_RESALE_SUB_PARTNER_ID
from tests.api.provisioning import PROVISION, customer_input, provisioning_id
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.read_only  # refusals and reads share the module's gateway (tests/conftest.py)

CREATE = """
mutation($input: CreatePartnerInput!) {
  createPartner(input: $input) { partner { id routeToMarket notificationEmails } errors { code field } }
}"""
CREATE_SUB = """
mutation($parent: ID!, $input: CreateSubPartnerInput!) {
  createSubPartner(parentId: $parent, input: $input) { partner { id routeToMarket notificationEmails } errors { code } }
}"""


@pytest.mark.own_gateway
async def test_r_tri_1_the_route_is_set_at_creation_and_inherited_by_sub_partners(gateway: Gateway, demo: Demo) -> None:
    platform = gateway.token(None, "platform_admin")
    created = (await gateway.execute(platform, CREATE, {"input": {
        "name": "Fabrikam Resale", "subscriptionId": "Sub-FAB-9", "routeToMarket": "RESALE",
        "notificationEmails": [" Desk@Fabrikam.example "]}}))["createPartner"]
    assert created["errors"] == []
    assert created["partner"]["routeToMarket"] == "RESALE"
    assert created["partner"]["notificationEmails"] == ["desk@fabrikam.example"]
    sub = (await gateway.execute(platform, CREATE_SUB, {"parent": created["partner"]["id"], "input": {
        "name": "Tier Two", "adminEmail": "admin@tier-two.example"}}))["createSubPartner"]
    # R-NOT-3: a sub-partner's notification addresses start with its admin's.
    assert sub["partner"]["routeToMarket"] == "RESALE"
    assert sub["partner"]["notificationEmails"] == ["admin@tier-two.example"]
    default = (await gateway.execute(platform, CREATE, {"input": {"name": "Plain", "subscriptionId": "S-2"}}))
    assert default["createPartner"]["partner"]["routeToMarket"] == "WHOLESALE"


async def test_r_tri_1_a_resale_partner_cannot_provision_wholesale_customers_and_nothing_is_written(
        gateway: Gateway, demo: Demo) -> None:
    provisioning = await provisioning_id(gateway, demo.partner)  # any template: the route is refused first
    for org in (DEMO_RESALE_PARTNER_ID, DEMO_RESALE_SUB_PARTNER_ID):
        async with gateway.writes_nothing():
            result = await gateway.execute(gateway.token(org, "full_admin"), PROVISION, {
                "input": customer_input(provisioning, "RESALE-1"), "for": None})
        assert [e["code"] for e in result["provisionCustomer"]["errors"]] == ["ROUTE_TO_MARKET_MISMATCH"], org


async def test_r_tri_1_the_demo_shows_both_routes(gateway: Gateway, demo: Demo) -> None:
    query = "{ viewer { orgId } node(id: $id) { ... on Partner { routeToMarket } } }"
    for org, route in ((demo.partner, "WHOLESALE"), (demo.sub_a, "WHOLESALE"), (DEMO_RESALE_PARTNER_ID, "RESALE"),
                       (DEMO_RESALE_SUB_PARTNER_ID, "RESALE")):
        data = await gateway.execute(gateway.token(org), query.replace("{ viewer", "query($id: ID!) { viewer"),
                                     {"id": org})
        assert data["node"]["routeToMarket"] == route, org
