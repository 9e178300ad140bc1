"""Who sees what (DOMAIN.md §1-§2, R-ORG-1...6), through the public GraphQL API on the demo data.

Demo data: tests/api/demo_counts.py says how much each org of the demo holds.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateway.demo import DEMO_RESALE_PARTNER_ID
from tests.api.demo_counts import (
    PARENT_CUSTOMERS,
    PARENT_SUBSCRIBERS,
    SUB_A_CUSTOMERS,
    SUB_A_SUBSCRIBERS,
    SUB_B_CUSTOMERS,
    SUB_B_SUBSCRIBERS,
)
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.read_only  # one gateway and demo for the module (tests/conftest.py)


CUSTOMER = "query($id: ID!) { customer(id: $id) { id name } }"
SUBSCRIBER = "query($id: ID!) { subscriber(id: $id) { id email } }"
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
CUSTOMERS = """
query($filter: CustomerFilter) {
  customers(filter: $filter, first: 100) { totalCount edges { node { id externalId owner { id } } } }
}"""
SUBSCRIBERS = """
query($filter: SubscriberFilter) {
  subscribers(filter: $filter, first: 100) { totalCount edges { node { id email customer { id owner { id } } } } }
}"""
PARTNER_NODE = """
query($id: ID!) {
  node(id: $id) {
    ... on Partner {
      id name kind provisioningState
      parent { id name }
      subPartners { totalCount edges { node { id } } }
    }
  }
}"""
CREATE_TEMPLATE = """
mutation($input: CreateOnboardingTemplateInput!) {
  createOnboardingTemplate(input: $input) { template { id } errors { code field } }
}"""
CREATE_PARTNER = """
mutation($input: CreatePartnerInput!) {
  createPartner(input: $input) { partner { id } errors { code field } }
}"""


# ---------------------------------------------------------------- helpers


async def _one(gateway: Gateway, collection: str, owner: str) -> dict[str, Any]:
    """Some document of `collection` owned by `owner`, read straight from the database."""
    db = gateway.runtime.db
    assert db is not None
    docs = await db.find(collection, {"ownerOrgId": owner}, sort=[("_id", 1)], limit=1)
    assert docs, f"the demo data has no {collection} owned by {owner}"
    return docs[0]


async def _customer_of(gateway: Gateway, owner: str) -> dict[str, Any]:
    return await _one(gateway, "customers", owner)


async def _subscriber_of(gateway: Gateway, owner: str) -> dict[str, Any]:
    return await _one(gateway, "subscribers", owner)


async def _customers(gateway: Gateway, token: str, filter: dict[str, Any] | None = None) -> dict[str, Any]:
    data = await gateway.execute(token, CUSTOMERS, {"filter": filter})
    connection: dict[str, Any] = data["customers"]
    return connection


async def _subscribers(gateway: Gateway, token: str, filter: dict[str, Any] | None = None) -> dict[str, Any]:
    data = await gateway.execute(token, SUBSCRIBERS, {"filter": filter})
    connection: dict[str, Any] = data["subscribers"]
    return connection


def _owners(connection: dict[str, Any]) -> set[str]:
    return {edge["node"]["owner"]["id"] for edge in connection["edges"]}


def _subscriber_owners(connection: dict[str, Any]) -> set[str]:
    return {edge["node"]["customer"]["owner"]["id"] for edge in connection["edges"]}


def _codes(errors: list[dict[str, Any]]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in errors]


def _empty(connection: dict[str, Any]) -> bool:
    return bool(connection["totalCount"] == 0 and connection["edges"] == [])


# ---------------------------------------------------------------- R-ORG-2: a sub-partner sees only its own


def _foreign_org(demo: Demo, whose: str) -> str:
    """The org whose data a sub-partner (sub_a) must not reach: its sibling or its parent."""
    return demo.sub_b if whose == "sibling" else demo.partner


FOREIGN = pytest.mark.parametrize("whose", ["sibling", "parent"])


@FOREIGN
async def test_r_org_2_sub_partner_cannot_read_foreign_customer_by_id(gateway: Gateway, demo: Demo, whose: str) -> None:
    foreign = await _customer_of(gateway, _foreign_org(demo, whose))
    data = await gateway.execute(gateway.token(demo.sub_a), CUSTOMER, {"id": foreign["_id"]})
    assert data["customer"] is None


async def test_r_org_2_sub_partner_reads_its_own_customer_by_id(gateway: Gateway, demo: Demo) -> None:
    own = await _customer_of(gateway, demo.sub_a)
    data = await gateway.execute(gateway.token(demo.sub_a), CUSTOMER, {"id": own["_id"]})
    assert data["customer"] == {"id": own["_id"], "name": own["name"]}


@FOREIGN
async def test_r_org_2_sub_partner_cannot_read_foreign_subscriber_by_id(
    gateway: Gateway, demo: Demo, whose: str
) -> None:
    foreign = await _subscriber_of(gateway, _foreign_org(demo, whose))
    data = await gateway.execute(gateway.token(demo.sub_a), SUBSCRIBER, {"id": foreign["_id"]})
    assert data["subscriber"] is None


async def test_r_org_2_sub_partner_reads_its_own_subscriber_by_id(gateway: Gateway, demo: Demo) -> None:
    own = await _subscriber_of(gateway, demo.sub_a)
    data = await gateway.execute(gateway.token(demo.sub_a), SUBSCRIBER, {"id": own["_id"]})
    assert data["subscriber"] == {"id": own["_id"], "email": own["email"]}


async def test_r_org_2_sub_partner_cannot_reach_sibling_or_parent_customer_through_node(
    gateway: Gateway, demo: Demo
) -> None:
    token = gateway.token(demo.sub_a)
    for owner in (demo.sub_b, demo.partner):
        customer = await _customer_of(gateway, owner)
        data = await gateway.execute(token, NODE, {"id": customer["_id"]})
        assert data["node"] is None, owner


async def test_r_org_2_sub_partner_cannot_reach_sibling_or_parent_subscriber_through_node(
    gateway: Gateway, demo: Demo
) -> None:
    token = gateway.token(demo.sub_a)
    for owner in (demo.sub_b, demo.partner):
        subscriber = await _subscriber_of(gateway, owner)
        data = await gateway.execute(token, NODE, {"id": subscriber["_id"]})
        assert data["node"] is None, owner


async def test_r_org_2_sub_partner_reaches_its_own_customer_and_subscriber_through_node(
    gateway: Gateway, demo: Demo
) -> None:
    token = gateway.token(demo.sub_a)
    customer = await _customer_of(gateway, demo.sub_a)
    subscriber = await _subscriber_of(gateway, demo.sub_a)
    assert (await gateway.execute(token, NODE, {"id": customer["_id"]}))["node"] == {
        "__typename": "Customer", "id": customer["_id"]}
    assert (await gateway.execute(token, NODE, {"id": subscriber["_id"]}))["node"] == {
        "__typename": "Subscriber", "id": subscriber["_id"]}


async def test_r_org_2_sub_partner_cannot_reach_sibling_or_parent_template_through_node(
    gateway: Gateway, demo: Demo
) -> None:
    token = gateway.token(demo.sub_a)
    for owner in (demo.sub_b, demo.partner):
        template = await _one(gateway, "templates", owner)
        data = await gateway.execute(token, NODE, {"id": template["_id"]})
        assert data["node"] is None, owner


async def test_r_org_2_sub_partner_lists_only_its_own_templates(gateway: Gateway, demo: Demo) -> None:
    data = await gateway.execute(gateway.token(demo.sub_a),
                                 "{ onboardingTemplates { totalCount edges { node { name } } } }")
    assert data["onboardingTemplates"] == {"totalCount": 1, "edges": [{"node": {"name": "Northwind standard"}}]}


async def test_r_org_2_sub_partner_default_customer_list_holds_only_its_own(gateway: Gateway, demo: Demo) -> None:
    connection = await _customers(gateway, gateway.token(demo.sub_a))
    assert connection["totalCount"] == SUB_A_CUSTOMERS
    assert len(connection["edges"]) == SUB_A_CUSTOMERS
    assert _owners(connection) == {demo.sub_a}


async def test_r_org_2_sub_partner_include_sub_partners_flag_still_gives_only_its_own(
    gateway: Gateway, demo: Demo
) -> None:
    connection = await _customers(gateway, gateway.token(demo.sub_a), {"includeSubPartners": True})
    assert connection["totalCount"] == SUB_A_CUSTOMERS
    assert _owners(connection) == {demo.sub_a}


async def test_r_org_2_sub_partner_default_subscriber_list_holds_only_its_own(gateway: Gateway, demo: Demo) -> None:
    connection = await _subscribers(gateway, gateway.token(demo.sub_a))
    assert connection["totalCount"] == SUB_A_SUBSCRIBERS
    assert len(connection["edges"]) == SUB_A_SUBSCRIBERS
    assert _subscriber_owners(connection) == {demo.sub_a}


async def test_r_org_2_sub_partner_naming_sibling_as_sub_partner_org_gets_an_empty_customer_list(
    gateway: Gateway, demo: Demo
) -> None:
    connection = await _customers(gateway, gateway.token(demo.sub_a), {"subPartnerOrgId": demo.sub_b})
    assert _empty(connection)


async def test_r_org_2_sub_partner_naming_its_parent_as_sub_partner_org_gets_an_empty_customer_list(
    gateway: Gateway, demo: Demo
) -> None:
    connection = await _customers(gateway, gateway.token(demo.sub_a), {"subPartnerOrgId": demo.partner})
    assert _empty(connection)


async def test_r_org_6_sub_partner_naming_a_nonexistent_org_gets_an_empty_list_like_for_its_sibling(
    gateway: Gateway, demo: Demo
) -> None:
    token = gateway.token(demo.sub_a)
    missing = await _customers(gateway, token, {"subPartnerOrgId": "ptn_" + "0" * 24})
    sibling = await _customers(gateway, token, {"subPartnerOrgId": demo.sub_b})
    assert _empty(missing)
    assert missing == sibling


async def test_r_org_2_sub_partner_naming_sibling_as_sub_partner_org_gets_an_empty_subscriber_list(
    gateway: Gateway, demo: Demo
) -> None:
    connection = await _subscribers(gateway, gateway.token(demo.sub_a), {"subPartnerOrgId": demo.sub_b})
    assert _empty(connection)


async def test_r_org_2_sub_partner_naming_itself_as_sub_partner_org_gets_its_own_customers(
    gateway: Gateway, demo: Demo
) -> None:
    connection = await _customers(gateway, gateway.token(demo.sub_a), {"subPartnerOrgId": demo.sub_a})
    assert connection["totalCount"] == SUB_A_CUSTOMERS
    assert _owners(connection) == {demo.sub_a}


@FOREIGN
async def test_r_org_2_sub_partner_cannot_find_foreign_subscriber_by_email(
    gateway: Gateway, demo: Demo, whose: str
) -> None:
    foreign = await _subscriber_of(gateway, _foreign_org(demo, whose))
    connection = await _subscribers(gateway, gateway.token(demo.sub_a), {"email": foreign["email"]})
    assert _empty(connection)


async def test_r_org_2_sub_partner_finds_its_own_subscriber_by_email(gateway: Gateway, demo: Demo) -> None:
    own = await _subscriber_of(gateway, demo.sub_a)
    connection = await _subscribers(gateway, gateway.token(demo.sub_a), {"email": own["email"].upper()})
    assert connection["totalCount"] == 1
    assert [e["node"]["id"] for e in connection["edges"]] == [own["_id"]]


@FOREIGN
@pytest.mark.parametrize(("filter_key", "customer_key"), [("customerId", "_id"), ("externalCustomerId", "externalId")])
async def test_r_org_2_sub_partner_cannot_list_subscribers_of_a_foreign_customer(
    gateway: Gateway, demo: Demo, whose: str, filter_key: str, customer_key: str
) -> None:
    foreign = await _customer_of(gateway, _foreign_org(demo, whose))
    connection = await _subscribers(gateway, gateway.token(demo.sub_a), {filter_key: foreign[customer_key]})
    assert _empty(connection)


async def test_r_org_2_sub_partner_cannot_find_sibling_customer_by_external_id(gateway: Gateway, demo: Demo) -> None:
    sibling = await _customer_of(gateway, demo.sub_b)
    connection = await _customers(gateway, gateway.token(demo.sub_a), {"externalId": sibling["externalId"]})
    assert _empty(connection)


async def test_r_org_2_sub_partner_lists_subscribers_of_its_own_customer_by_external_customer_id(
    gateway: Gateway, demo: Demo
) -> None:
    db = gateway.runtime.db
    assert db is not None
    # A customer of its own that has subscribers (the demo's customers are not all given some).
    own_subscriber = await _subscriber_of(gateway, demo.sub_a)
    own = (await db.find("customers", {"_id": own_subscriber["customerId"]}))[0]
    expected = {d["_id"] for d in await db.find("subscribers", {"customerId": own["_id"]})}
    connection = await _subscribers(gateway, gateway.token(demo.sub_a), {"externalCustomerId": own["externalId"]})
    assert connection["totalCount"] == len(expected) > 0
    assert {e["node"]["id"] for e in connection["edges"]} == expected


# ---------------------------------------------------------------- R-ORG-3: a parent asks explicitly


async def test_r_org_3_parent_default_customer_list_excludes_sub_partners_customers(
    gateway: Gateway, demo: Demo
) -> None:
    connection = await _customers(gateway, gateway.token(demo.partner))
    assert connection["totalCount"] == PARENT_CUSTOMERS
    assert len(connection["edges"]) == PARENT_CUSTOMERS
    assert _owners(connection) == {demo.partner}


async def test_r_org_3_parent_default_subscriber_list_excludes_sub_partners_subscribers(
    gateway: Gateway, demo: Demo
) -> None:
    connection = await _subscribers(gateway, gateway.token(demo.partner))
    assert connection["totalCount"] == PARENT_SUBSCRIBERS
    sibling = await _subscriber_of(gateway, demo.sub_a)
    by_email = await _subscribers(gateway, gateway.token(demo.partner), {"email": sibling["email"]})
    assert _empty(by_email)


async def test_r_org_3_parent_naming_a_sub_partner_gets_exactly_its_customers(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    for sub_partner, expected in ((demo.sub_a, SUB_A_CUSTOMERS), (demo.sub_b, SUB_B_CUSTOMERS)):
        connection = await _customers(gateway, token, {"subPartnerOrgId": sub_partner})
        assert connection["totalCount"] == expected, sub_partner
        assert len(connection["edges"]) == expected, sub_partner
        assert _owners(connection) == {sub_partner}


async def test_r_org_3_parent_naming_a_sub_partner_gets_exactly_its_subscribers(
    gateway: Gateway, demo: Demo
) -> None:
    token = gateway.token(demo.partner)
    for sub_partner, expected in ((demo.sub_a, SUB_A_SUBSCRIBERS), (demo.sub_b, SUB_B_SUBSCRIBERS)):
        connection = await _subscribers(gateway, token, {"subPartnerOrgId": sub_partner})
        assert connection["totalCount"] == expected, sub_partner
        assert _subscriber_owners(connection) == {sub_partner}


async def test_r_org_3_parent_include_sub_partners_gives_every_customer_of_the_family(
    gateway: Gateway, demo: Demo
) -> None:
    connection = await _customers(gateway, gateway.token(demo.partner), {"includeSubPartners": True})
    assert connection["totalCount"] == PARENT_CUSTOMERS + SUB_A_CUSTOMERS + SUB_B_CUSTOMERS == 40
    assert len(connection["edges"]) == 40
    assert _owners(connection) == {demo.partner, demo.sub_a, demo.sub_b}


async def test_r_org_3_parent_include_sub_partners_gives_every_subscriber_of_the_family(
    gateway: Gateway, demo: Demo
) -> None:
    connection = await _subscribers(gateway, gateway.token(demo.partner), {"includeSubPartners": True})
    assert connection["totalCount"] == PARENT_SUBSCRIBERS + SUB_A_SUBSCRIBERS + SUB_B_SUBSCRIBERS


async def test_r_org_3_parent_reading_a_sub_partner_node_lists_that_sub_partners_customers(
    gateway: Gateway, demo: Demo
) -> None:
    query = """
    query($id: ID!) { node(id: $id) { ... on Partner { customers(first: 100) {
      totalCount edges { node { owner { id } } } } } } }"""
    data = await gateway.execute(gateway.token(demo.partner), query, {"id": demo.sub_a})
    connection = data["node"]["customers"]
    assert connection["totalCount"] == SUB_A_CUSTOMERS
    assert _owners(connection) == {demo.sub_a}


async def test_r_org_6_parent_naming_a_nonexistent_org_as_sub_partner_gets_an_empty_list(
    gateway: Gateway, demo: Demo
) -> None:
    connection = await _customers(gateway, gateway.token(demo.partner), {"subPartnerOrgId": "ptn_" + "0" * 24})
    assert _empty(connection)


@pytest.mark.own_gateway  # it creates a partner
async def test_r_org_6_partner_naming_another_partners_sub_partner_gets_an_empty_list(
    gateway: Gateway, demo: Demo
) -> None:
    platform = gateway.token(None, "platform_admin")
    created = await gateway.execute(platform, CREATE_PARTNER,
                                    {"input": {"name": "Elsewhere Telecom", "subscriptionId": "Sub-ELSE-1"}})
    foreign = gateway.token(created["createPartner"]["partner"]["id"])
    for sub_partner in (demo.sub_a, demo.sub_b):
        assert _empty(await _customers(gateway, foreign, {"subPartnerOrgId": sub_partner})), sub_partner
        assert _empty(await _subscribers(gateway, foreign, {"subPartnerOrgId": sub_partner})), sub_partner
    assert _empty(await _customers(gateway, foreign, {"includeSubPartners": True}))
    customer = await _customer_of(gateway, demo.sub_a)
    assert (await gateway.execute(foreign, CUSTOMER, {"id": customer["_id"]}))["customer"] is None
    assert (await gateway.execute(foreign, NODE, {"id": demo.sub_a}))["node"] is None


async def test_r_org_3_full_admin_parent_reads_sub_partner_customer_and_subscriber_by_id(
    gateway: Gateway, demo: Demo
) -> None:
    token = gateway.token(demo.partner)
    customer = await _customer_of(gateway, demo.sub_b)
    subscriber = await _subscriber_of(gateway, demo.sub_b)
    assert (await gateway.execute(token, CUSTOMER, {"id": customer["_id"]}))["customer"] == {
        "id": customer["_id"], "name": customer["name"]}
    assert (await gateway.execute(token, SUBSCRIBER, {"id": subscriber["_id"]}))["subscriber"] == {
        "id": subscriber["_id"], "email": subscriber["email"]}
    assert (await gateway.execute(token, NODE, {"id": customer["_id"]}))["node"] == {
        "__typename": "Customer", "id": customer["_id"]}
    assert (await gateway.execute(token, NODE, {"id": subscriber["_id"]}))["node"] == {
        "__typename": "Subscriber", "id": subscriber["_id"]}


async def test_r_org_3_read_only_parent_cannot_read_sub_partner_customer_or_subscriber_by_id(
    gateway: Gateway, demo: Demo
) -> None:
    token = gateway.token(demo.partner, "read_only_admin")
    customer = await _customer_of(gateway, demo.sub_a)
    subscriber = await _subscriber_of(gateway, demo.sub_a)
    assert (await gateway.execute(token, CUSTOMER, {"id": customer["_id"]}))["customer"] is None
    assert (await gateway.execute(token, SUBSCRIBER, {"id": subscriber["_id"]}))["subscriber"] is None
    assert (await gateway.execute(token, NODE, {"id": customer["_id"]}))["node"] is None
    assert (await gateway.execute(token, NODE, {"id": subscriber["_id"]}))["node"] is None


async def test_r_org_3_read_only_parent_reads_its_own_customers(gateway: Gateway, demo: Demo) -> None:
    connection = await _customers(gateway, gateway.token(demo.partner, "read_only_admin"))
    assert connection["totalCount"] == PARENT_CUSTOMERS
    assert _owners(connection) == {demo.partner}


async def test_r_org_3_read_only_parent_asking_to_include_sub_partners_is_forbidden(
    gateway: Gateway, demo: Demo
) -> None:
    errors = await gateway.errors(gateway.token(demo.partner, "read_only_admin"), CUSTOMERS,
                                  {"filter": {"includeSubPartners": True}})
    assert _codes(errors) == ["FORBIDDEN"]


async def test_r_org_3_read_only_parent_naming_a_sub_partner_is_forbidden(gateway: Gateway, demo: Demo) -> None:
    errors = await gateway.errors(gateway.token(demo.partner, "read_only_admin"), CUSTOMERS,
                                  {"filter": {"subPartnerOrgId": demo.sub_a}})
    assert _codes(errors) == ["FORBIDDEN"]


async def test_r_org_6_read_only_parent_naming_a_nonexistent_org_is_forbidden_like_a_real_sub_partner(
    gateway: Gateway, demo: Demo
) -> None:
    token = gateway.token(demo.partner, "read_only_admin")
    missing = await gateway.errors(token, CUSTOMERS, {"filter": {"subPartnerOrgId": "ptn_" + "0" * 24}})
    real = await gateway.errors(token, CUSTOMERS, {"filter": {"subPartnerOrgId": demo.sub_b}})
    assert _codes(missing) == _codes(real) == ["FORBIDDEN"]
    assert [e["message"] for e in missing] == [e["message"] for e in real]


async def test_r_org_3_read_only_parent_asking_for_sub_partner_subscribers_is_forbidden(
    gateway: Gateway, demo: Demo
) -> None:
    token = gateway.token(demo.partner, "read_only_admin")
    for filter in ({"includeSubPartners": True}, {"subPartnerOrgId": demo.sub_b}):
        errors = await gateway.errors(token, SUBSCRIBERS, {"filter": filter})
        assert _codes(errors) == ["FORBIDDEN"], filter


# ---------------------------------------------------------------- R-ORG-1: partner nodes


async def test_r_org_1_sub_partner_reading_its_own_partner_node_sees_no_parent_and_no_sub_partners(
    gateway: Gateway, demo: Demo
) -> None:
    data = await gateway.execute(gateway.token(demo.sub_a), PARTNER_NODE, {"id": demo.sub_a})
    assert data["node"] == {
        "id": demo.sub_a, "name": "Northwind Resellers", "kind": "SUB_PARTNER", "provisioningState": "active",
        "parent": None, "subPartners": {"totalCount": 0, "edges": []},
    }


async def test_r_org_1_sub_partner_viewer_has_no_parent_and_no_sub_partners(gateway: Gateway, demo: Demo) -> None:
    query = """{ viewer { orgId orgKind partner { parent { id } subPartners { totalCount } } }
                 subPartners { totalCount edges { node { id } } } }"""
    data = await gateway.execute(gateway.token(demo.sub_b), query)
    assert data["viewer"] == {"orgId": demo.sub_b, "orgKind": "SUB_PARTNER",
                              "partner": {"parent": None, "subPartners": {"totalCount": 0}}}
    assert data["subPartners"] == {"totalCount": 0, "edges": []}


async def test_r_org_2_sub_partner_cannot_reach_its_parent_partner_node(gateway: Gateway, demo: Demo) -> None:
    data = await gateway.execute(gateway.token(demo.sub_a), NODE, {"id": demo.partner})
    assert data["node"] is None


async def test_r_org_2_sub_partner_cannot_reach_its_sibling_partner_node(gateway: Gateway, demo: Demo) -> None:
    data = await gateway.execute(gateway.token(demo.sub_a), NODE, {"id": demo.sub_b})
    assert data["node"] is None


async def test_r_org_2_owner_of_a_sub_partner_customer_shows_no_parent_to_the_sub_partner(
    gateway: Gateway, demo: Demo
) -> None:
    own = await _customer_of(gateway, demo.sub_a)
    query = "query($id: ID!) { customer(id: $id) { owner { id parent { id } } } }"
    data = await gateway.execute(gateway.token(demo.sub_a), query, {"id": own["_id"]})
    assert data["customer"]["owner"] == {"id": demo.sub_a, "parent": None}


async def test_parent_reading_its_sub_partner_node_sees_the_parent_set(gateway: Gateway, demo: Demo) -> None:
    data = await gateway.execute(gateway.token(demo.partner), PARTNER_NODE, {"id": demo.sub_b})
    assert data["node"] == {
        "id": demo.sub_b, "name": "Contoso Connect", "kind": "SUB_PARTNER", "provisioningState": "suspended",
        "parent": {"id": demo.partner, "name": "Demo Telecom"}, "subPartners": {"totalCount": 0, "edges": []},
    }


async def test_parent_lists_both_of_its_sub_partners(gateway: Gateway, demo: Demo) -> None:
    data = await gateway.execute(gateway.token(demo.partner), PARTNER_NODE, {"id": demo.partner})
    node = data["node"]
    assert node["parent"] is None
    assert node["subPartners"]["totalCount"] == 2
    assert {e["node"]["id"] for e in node["subPartners"]["edges"]} == {demo.sub_a, demo.sub_b}


async def test_parent_does_not_list_its_sub_partners_templates_as_its_own(gateway: Gateway, demo: Demo) -> None:
    data = await gateway.execute(gateway.token(demo.partner),
                                 "{ onboardingTemplates { totalCount edges { node { name } } } }")
    assert data["onboardingTemplates"]["totalCount"] == 2
    assert {e["node"]["name"] for e in data["onboardingTemplates"]["edges"]} == {
        "Small business (Americas)", "Enterprise SSO (Europe)"}


# ---------------------------------------------------------------- §2: platform roles and role limits


async def test_platform_admin_has_no_customer_scope(gateway: Gateway, demo: Demo) -> None:
    errors = await gateway.errors(gateway.token(None, "platform_admin"), CUSTOMERS)
    assert _codes(errors) == ["FORBIDDEN"]


async def test_compliance_reviewer_has_no_customer_scope(gateway: Gateway, demo: Demo) -> None:
    errors = await gateway.errors(gateway.token(None, "compliance_reviewer"), CUSTOMERS)
    assert _codes(errors) == ["FORBIDDEN"]


async def test_platform_roles_have_no_viewer(gateway: Gateway, demo: Demo) -> None:
    for role in ("platform_admin", "compliance_reviewer"):
        errors = await gateway.errors(gateway.token(None, role), "{ viewer { orgId } }")
        assert _codes(errors) == ["FORBIDDEN"], role


async def test_platform_admin_lists_top_level_partners_only(gateway: Gateway, demo: Demo) -> None:
    data = await gateway.execute(gateway.token(None, "platform_admin"),
                                 "{ partners { totalCount edges { node { id kind } } } }")
    # The Wholesale demo partner and the resale one (R-TRI-1); never a sub-partner.
    assert data["partners"]["totalCount"] == 2
    assert sorted(e["node"]["id"] for e in data["partners"]["edges"]) == sorted([demo.partner, DEMO_RESALE_PARTNER_ID])
    assert {e["node"]["kind"] for e in data["partners"]["edges"]} == {"PARTNER"}


async def test_only_platform_admin_may_list_partners(gateway: Gateway, demo: Demo) -> None:
    callers = [gateway.token(None, "compliance_reviewer"), gateway.token(demo.partner),
               gateway.token(demo.partner, "read_only_admin"), gateway.token(demo.sub_a)]
    for token in callers:
        errors = await gateway.errors(token, "{ partners { totalCount } }")
        assert _codes(errors) == ["FORBIDDEN"]


async def test_read_only_admin_cannot_create_a_template_and_nothing_is_written(gateway: Gateway, demo: Demo) -> None:
    async with gateway.writes_nothing():
        errors = await gateway.errors(gateway.token(demo.partner, "read_only_admin"), CREATE_TEMPLATE,
                                      {"input": {"name": "Read-only attempt", "country": "US", "language": "en_US"}})
    assert _codes(errors) == ["FORBIDDEN"]


async def test_partner_admin_cannot_create_a_partner_and_nothing_is_written(gateway: Gateway, demo: Demo) -> None:
    for token in (gateway.token(demo.partner), gateway.token(demo.sub_a)):
        async with gateway.writes_nothing():
            errors = await gateway.errors(token, CREATE_PARTNER,
                                          {"input": {"name": "Rogue Telecom", "subscriptionId": "Sub-ROGUE-1"}})
        assert _codes(errors) == ["FORBIDDEN"]


async def test_token_naming_a_nonexistent_org_is_unauthenticated(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token("ptn_" + "f" * 24)
    for query in ("{ viewer { orgId } }", "{ customers { totalCount } }"):
        errors = await gateway.errors(token, query)
        assert _codes(errors) == ["UNAUTHENTICATED"], query
