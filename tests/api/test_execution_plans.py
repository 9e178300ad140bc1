"""Execution plans (resolvers.plan, on by default) change nothing in an answer: the demo read through a gateway with
them and through one without (GATEWAY_EXECUTION_PLANS=false, graphql-core answering every field) gives the same
HTTP body, byte for byte, for the dashboard's documents and wide reads across the schema, errors included."""

from __future__ import annotations

import pytest

from bench.support.data import DASHBOARD
from gateway.demo import DEMO_PARTNER_ID, DEMO_RESALE_PARTNER_ID
from tests.conftest import Gateway, SharedGateways

pytestmark = pytest.mark.read_only

WIDE = """query($after: String) {
  customers(first: 40, after: $after, filter: {includeSubPartners: true}) {
    totalCount pageInfo { hasNextPage endCursor startCursor hasPreviousPage }
    edges { cursor node {
      id externalId orgId name primaryEmail language status version createdAt updatedAt lastStatusChange
      billingStartDate restrictedByPartnerMode authMode hybrid restrictEnterpriseSettings meetingsSiteLocale
      address { addressLine1 city country }
      errors { code message } warnings { code message }
      compliance { state screenedAt matches { listName score } contactAttempts { at reached } }
      defaultCallInNumber { region countryCode }
      backgroundWork { kind attempts }
      owner { id name kind } template { id name country }
      packages { name status limit assigned licenseIds errors { code } }
      subscribers(first: 3) { totalCount edges { cursor node { id email status } } }
      workspaces(first: 2) { totalCount }
      events(first: 2) { edges { node { entityType fromStatus toStatus version } } }
    } }
  }
}"""
RESALE = """{ trials(first: 20) { totalCount edges { node { id status daysRemaining owner { id name } } } }
  orders(first: 20) { totalCount edges { node { id status owner { name } } } } }"""
REFUSED = "{ customers(first: 5) { edges { node { id subscribers(first: -1) { totalCount } } } } }"


@pytest.mark.parametrize("document", [DASHBOARD, WIDE, RESALE, REFUSED], ids=["dashboard", "wide", "resale",
                                                                               "field-error"])
async def test_answers_are_byte_identical_with_and_without_execution_plans(
        gateway: Gateway, shared_gateways: SharedGateways, document: str) -> None:
    unplanned = await shared_gateways.get({"execution_plans": False})
    assert gateway.runtime.settings.execution_plans and not unplanned.runtime.settings.execution_plans
    org = DEMO_RESALE_PARTNER_ID if document is RESALE else DEMO_PARTNER_ID
    token = gateway.token(org, "full_admin")
    with_plans = await gateway.post(token, document)
    without = await unplanned.post(token, document)
    assert with_plans.status_code == without.status_code == 200
    assert with_plans.content == without.content
    body = with_plans.json()
    if document is REFUSED:  # a field error: the message, path and null propagation are the executor's too
        assert body["errors"] and all(e["path"] for e in body["errors"])
    else:
        assert "errors" not in body and any(v for v in body["data"].values())


COUNT_ONLY = """{ customers(first: 50, filter: {includeSubPartners: true}) { edges { node { id
  subscribers(first: 0) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } }
  all: subscribers(first: 100) { totalCount edges { cursor } } } } } }"""


async def test_a_count_only_subscriber_page_is_the_count_and_costs_no_query_of_its_own(gateway: Gateway) -> None:
    """`subscribers(first: 0) { totalCount }` (the dashboard's count): an empty page whose hasNextPage says whether
    any subscriber exists, answered from the count the connection needs anyway — one aggregation fewer per page."""
    token = gateway.token(DEMO_PARTNER_ID, "full_admin")
    gateway.commands.targets.clear()
    gateway.commands.enabled = True
    try:
        nodes = [e["node"] for e in (await gateway.execute(token, COUNT_ONLY))["customers"]["edges"]]
    finally:
        gateway.commands.enabled = False
    assert any(n["all"]["totalCount"] for n in nodes) and any(not n["all"]["totalCount"] for n in nodes)
    for node in nodes:
        counted = node["subscribers"]
        assert counted["totalCount"] == node["all"]["totalCount"] == len(node["all"]["edges"])
        assert counted["edges"] == []
        assert counted["pageInfo"] == {"hasNextPage": node["all"]["totalCount"] > 0, "hasPreviousPage": False,
                                       "startCursor": None, "endCursor": None}
    # One page query (for `all`) and one count, whatever the number of customers: the count-only page adds none.
    assert gateway.commands.targets.count("aggregate subscribers") == 2, gateway.commands.targets
