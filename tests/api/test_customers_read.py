from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.model.entities import Address, Customer, CustomerPackage, CustomerStatus, PackageStatus
from tests.api.demo_counts import PARENT_CUSTOMERS
from tests.conftest import NOW, Demo, Gateway

pytestmark = pytest.mark.read_only  # one gateway and demo for the module (tests/conftest.py)

PAGE = """query($first: Int, $after: String, $order: CustomerOrder, $filter: CustomerFilter) {
  customers(first: $first, after: $after, orderBy: $order, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name status externalId createdAt lastStatusChange owner { id } } }
  }
}"""


async def _page(gateway: Gateway, token: str, **variables: Any) -> dict[str, Any]:
    data = await gateway.execute(token, PAGE, variables)
    result: dict[str, Any] = data["customers"]
    return result


def _names(page: dict[str, Any]) -> list[str]:
    return [e["node"]["name"] for e in page["edges"]]


async def test_default_order_is_newest_first(gateway: Gateway, demo: Demo) -> None:
    page = await _page(gateway, gateway.token(demo.partner), first=100)
    created = [e["node"]["createdAt"] for e in page["edges"]]
    assert len(created) == PARENT_CUSTOMERS and created == sorted(created, reverse=True)
    assert page["pageInfo"]["hasNextPage"] is False and page["pageInfo"]["hasPreviousPage"] is False


@pytest.mark.parametrize(
    ("order", "key", "reverse"),
    [("CREATED_ASC", "createdAt", False), ("NAME_ASC", "name", False),
     ("LAST_STATUS_CHANGE_DESC", "lastStatusChange", True)],
)
async def test_every_order_sorts_by_its_key(gateway: Gateway, demo: Demo, order: str, key: str, reverse: bool) -> None:
    page = await _page(gateway, gateway.token(demo.partner), first=100, order=order)
    values = [e["node"][key] for e in page["edges"]]
    expected = sorted(values, key=str.casefold, reverse=reverse) if key == "name" else sorted(values, reverse=reverse)
    assert len(values) == PARENT_CUSTOMERS and values == expected


async def test_paging_walks_every_customer_once(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    seen: list[str] = []
    after = None
    for _ in range(10):
        page = await _page(gateway, token, first=6, after=after, order="NAME_ASC")
        seen += _names(page)
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert len(seen) == PARENT_CUSTOMERS == len(set(seen)) and seen == sorted(seen, key=str.casefold)


@pytest.mark.own_gateway
async def test_paging_stays_correct_while_customers_are_inserted(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    first = await _page(gateway, token, first=5)
    # Three customers newer than everything seen so far, as a provisioning burst would add them.
    await gateway.repos.customers.insert_customers([_customer(demo.partner, f"Inserted {i}", NOW + timedelta(
        minutes=i)) for i in range(3)])
    rest: list[str] = []
    after = first["pageInfo"]["endCursor"]
    while after:
        page = await _page(gateway, token, first=5, after=after)
        rest += _names(page)
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    # No row skipped, none repeated, the new ones are before the cursor.
    assert len(_names(first)) + len(rest) == PARENT_CUSTOMERS
    assert not set(_names(first)) & set(rest)
    assert (await _page(gateway, token, first=0))["totalCount"] == PARENT_CUSTOMERS + 3


async def test_page_above_100_is_refused(gateway: Gateway, demo: Demo) -> None:
    errors = await gateway.errors(gateway.token(demo.partner), PAGE, {"first": 101})
    assert errors[0]["extensions"] == {"code": "VALIDATION_FAILED", "field": ["first"]}


async def test_nested_page_above_100_is_refused(gateway: Gateway, demo: Demo) -> None:
    query = "{ customers(first: 1) { edges { node { subscribers(first: 500) { totalCount } } } } }"
    errors = await gateway.errors(gateway.token(demo.partner), query)
    assert errors[0]["extensions"]["code"] == "VALIDATION_FAILED"


async def test_foreign_cursor_is_refused(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    by_name = await _page(gateway, token, first=2, order="NAME_ASC")
    errors = await gateway.errors(token, PAGE, {"first": 2, "after": by_name["pageInfo"]["endCursor"]})
    assert errors[0]["extensions"] == {"code": "VALIDATION_FAILED", "field": ["after"]}


async def test_first_zero_gives_only_the_count(gateway: Gateway, demo: Demo) -> None:
    page = await _page(gateway, gateway.token(demo.partner), first=0)
    assert page["edges"] == [] and page["totalCount"] == PARENT_CUSTOMERS and page["pageInfo"]["hasNextPage"] is True


async def test_filters_and_total_count(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    provisioned = await _page(gateway, token, first=100, filter={"status": ["provisioned", "error"]})
    assert provisioned["totalCount"] == len(provisioned["edges"]) > 0
    assert {e["node"]["status"] for e in provisioned["edges"]} == {"provisioned", "error"}
    dental = await _page(gateway, token, filter={"nameContains": "DENTAL"})
    assert sorted(_names(dental)) == ["Acme Dental", "Maple Ridge Dental"] and dental["totalCount"] == 2
    regex_chars = await _page(gateway, token, filter={"nameContains": ".*"})
    assert regex_chars["totalCount"] == 0
    by_external = await _page(gateway, token, filter={"externalId": "EXT-1003"})
    assert _names(by_external) == ["Delta Bakeries"]
    query = '{ customers(filter: {externalId: "EXT-1003"}) { edges { node { orgId } } } }'
    org_id = (await gateway.execute(token, query))["customers"]["edges"][0]["node"]["orgId"]
    assert _names(await _page(gateway, token, filter={"orgId": org_id})) == ["Delta Bakeries"]
    assert (await _page(gateway, token, filter={"status": []}))["totalCount"] == 0


DETAIL = """query($id: ID!) { customer(id: $id) {
  id name language meetingsSiteLocale address { country city addressLine1 }
  defaultCallInNumber { region countryCode country }
  status errors { code message } packages { name status limit assigned errors { code } }
  template { name provisioningId } owner { id name kind } locations { name isHeadquarters timezone }
  subscribers(first: 100) { totalCount edges { node { packages status } } }
  workspaces(first: 100) { edges { node { package status } } }
  version restrictedByPartnerMode billingStartDate
} }"""


async def _customer_by_external_id(gateway: Gateway, token: str, external_id: str) -> dict[str, Any]:
    found = await _page(gateway, token, filter={"externalId": external_id})
    detail = await gateway.execute(token, DETAIL, {"id": found["edges"][0]["node"]["id"]})
    customer: dict[str, Any] = detail["customer"]
    return customer


async def test_r_loc_customer_language_and_meetings_locale(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    lisbon = await _customer_by_external_id(gateway, token, "EXT-1011")  # asked for "pt" on a DE template
    assert (lisbon["language"], lisbon["meetingsSiteLocale"]) == ("pt_PT", "en_US")
    fjord = await _customer_by_external_id(gateway, token, "EXT-1005")
    assert (fjord["language"], fjord["meetingsSiteLocale"]) == ("nb_NO", "en_US")
    hanami = await _customer_by_external_id(gateway, token, "EXT-1007")
    assert (hanami["language"], hanami["meetingsSiteLocale"]) == ("ja_JP", "ja_JP")


async def test_r_dial_customer_default_call_in_number(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    italy = await _customer_by_external_id(gateway, token, "EXT-1006")
    assert italy["defaultCallInNumber"] == {"region": "EURO", "countryCode": "+49", "country": "Germany"}
    singapore = await _customer_by_external_id(gateway, token, "EXT-1014")
    assert singapore["defaultCallInNumber"] == {"region": "APAC", "countryCode": "+65", "country": "Singapore"}


async def test_packages_count_the_subscribers_holding_them(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    customers = await _page(gateway, token, first=100)
    checked = 0
    for edge in customers["edges"]:
        detail = (await gateway.execute(token, DETAIL, {"id": edge["node"]["id"]}))["customer"]
        holding: dict[str, int] = {}
        for sub in detail["subscribers"]["edges"]:
            if sub["node"]["status"] in ("provisioning", "pending_user_migration", "provisioned", "updating"):
                for package in sub["node"]["packages"]:  # its base package and its add-ons (R-ADD-1)
                    holding[package] = holding.get(package, 0) + 1
        for workspace in detail["workspaces"]["edges"]:  # R-WS-1: workspaces hold common_area_calling
            if workspace["node"]["status"] in ("provisioning", "provisioned", "updating"):
                package = workspace["node"]["package"]
                holding[package] = holding.get(package, 0) + 1
        assert {p["name"]: p["assigned"] for p in detail["packages"]} == {
            p["name"]: holding.get(p["name"], 0) for p in detail["packages"]}
        checked += sum(holding.values())
    assert checked > 50


async def test_customer_detail_resolves_its_relations(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    acme = await _customer_by_external_id(gateway, token, "EXT-1000")
    assert acme["owner"] == {"id": demo.partner, "name": "Demo Telecom", "kind": "PARTNER"}
    assert acme["template"]["name"] == "Small business (Americas)"
    assert acme["locations"] == [{"name": "Headquarters", "isHeadquarters": True, "timezone": "America/New_York"}]
    assert acme["restrictedByPartnerMode"] is True and acme["version"] >= 1


async def test_provisioned_with_errors_shows_the_failed_package(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    page = await _page(gateway, token, first=100, filter={"status": ["provisioned_with_errors"]})
    detail = (await gateway.execute(token, DETAIL, {"id": page["edges"][0]["node"]["id"]}))["customer"]
    failed = [p for p in detail["packages"] if p["status"] == "error"]
    assert failed and failed[0]["errors"] == [{"code": "2560"}]


async def test_onboarding_templates_are_the_callers_own(gateway: Gateway, demo: Demo) -> None:
    query = "{ onboardingTemplates { totalCount edges { node { name authMode idpEntityId language country } } } }"
    data = await gateway.execute(gateway.token(demo.partner), query)
    assert data["onboardingTemplates"]["totalCount"] == 2
    assert {e["node"]["authMode"] for e in data["onboardingTemplates"]["edges"]} == {"webex", "partner_saml"}
    sub = await gateway.execute(gateway.token(demo.sub_a), query)
    assert [e["node"]["name"] for e in sub["onboardingTemplates"]["edges"]] == ["Northwind standard"]


def _customer(owner: str, name: str, created: Any) -> Customer:
    from domain.model.ids import Kind, new_id

    return Customer(
        id=new_id(Kind.CUSTOMER), owner_org_id=owner, root_org_id=owner, template_id="tpl_none", external_id=name,
        name=name, primary_email="x@example.com", language="en_US",
        address=Address(address_line1="1 Main St", city="Springfield", country="US"),
        packages=[CustomerPackage(name="webex_meetings", status=PackageStatus.PROVISIONING)],
        status=CustomerStatus.PROVISIONING, version=1, created_at=created, updated_at=created,
        last_status_change=created,
    )
