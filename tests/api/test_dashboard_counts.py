"""`dashboardCounts` (DOMAIN.md §17, R-DASH-1): every count equals the `totalCount` of the matching list, for each
way of scoping it (R-ORG-3), in one database round trip; each part needs the read scope of its list.

The lists are read on the demo as it was seeded, with work in flight and one customer retrying (Retry Robotics,
gateway/demo_extras/subscribers.py).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from domain.model.status import CustomerStatus, SubscriberStatus, WorkspaceStatus
from domain.rules.catalogue import CATALOGUE, USER_PACKAGES
from domain.store.engine import Fault, FaultRule
from tests.api.demo_counts import (
    PARENT_CUSTOMERS,
    PARENT_SUBSCRIBERS,
    SUB_A_CUSTOMERS,
    SUB_A_SUBSCRIBERS,
    SUB_B_CUSTOMERS,
    SUB_B_SUBSCRIBERS,
)
from tests.api.provisioning import (
    PROVISION_SUBSCRIBER,
    customer_input,
    provision,
    provisioning_id,
    subscriber_input,
)
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.read_only

COUNTS = """query($filter: DashboardFilter) { dashboardCounts(filter: $filter) {
  customers customersByStatus { status count } customersByPackage { package count }
  subscribers subscribersByStatus { status count } subscribersByPackage { package count }
  workspacesByStatus { status count } retrying } }"""
WORK = "backgroundWork { attempts lastError { code } nextAttemptAt }"
CUSTOMERS = f"""query($filter: CustomerFilter, $after: String) {{
  customers(first: 100, after: $after, filter: $filter) {{
  pageInfo {{ hasNextPage endCursor }}
  edges {{ node {{ id status packages {{ name }} {WORK}
                  workspaces(first: 100) {{ totalCount edges {{ node {{ status {WORK} }} }} }} }} }} }} }}"""
SUBSCRIBERS = f"""query($filter: SubscriberFilter, $after: String) {{
  subscribers(first: 100, after: $after, filter: $filter) {{
    pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {WORK} }} }} }} }}"""


async def _counts(gateway: Gateway, token: str, filter: dict[str, Any]) -> dict[str, Any]:
    counts: dict[str, Any] = (await gateway.execute(token, COUNTS, {"filter": filter}))["dashboardCounts"]
    return counts


async def _all(gateway: Gateway, token: str, document: str, field: str, filter: dict[str, Any]
               ) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gateway.execute(token, document, {"filter": filter, "after": after}))[field]
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def _retrying(node: dict[str, Any]) -> bool:
    work = node["backgroundWork"]
    return bool(work and work["attempts"] >= 1 and work["lastError"] and work["nextAttemptAt"])


async def _totals(gateway: Gateway, token: str, field: str, filters: dict[str, dict[str, Any]]) -> dict[str, int]:
    """The `totalCount` of the list `field` under each filter, in aliased requests (ten lists at a time, the most
    top-level fields an operation may select)."""
    totals: dict[str, int] = {}
    aliases = list(filters)
    for chunk in (aliases[i:i + 10] for i in range(0, len(aliases), 10)):
        selected = " ".join(f"{alias}: {field}(first: 0, filter: $f_{alias}) {{ totalCount }}" for alias in chunk)
        params = ", ".join(f"$f_{alias}: {field[:-1].capitalize()}Filter" for alias in chunk)
        data = await gateway.execute(token, f"query({params}) {{ {selected} }}",
                                     {f"f_{alias}": filters[alias] for alias in chunk})
        totals |= {alias: data[alias]["totalCount"] for alias in chunk}
    return totals


async def _from_the_lists(gateway: Gateway, token: str, ownership: dict[str, Any]) -> dict[str, Any]:
    """What `dashboardCounts` must say, read from the lists: customers and subscribers `totalCount` per status and
    per package filter, each customer's packages and workspaces, and every entity's background work."""
    customer_totals = await _totals(gateway, token, "customers", {
        "all": ownership, **{s.value: {**ownership, "status": [s.value]} for s in CustomerStatus}})
    subscriber_filters = {"all": ownership, **{s.value: {**ownership, "status": s.value} for s in SubscriberStatus}}
    subscriber_filters |= {f"p_{p}": {**ownership, "package" if p in USER_PACKAGES else "addOn": p}
                           for p in CATALOGUE}
    subscriber_totals = await _totals(gateway, token, "subscribers", subscriber_filters)
    customers = await _all(gateway, token, CUSTOMERS, "customers", ownership)
    workspaces = [edge["node"] for c in customers for edge in c["workspaces"]["edges"]]
    subscribers = await _all(gateway, token, SUBSCRIBERS, "subscribers", ownership)
    held = Counter(p["name"] for c in customers for p in c["packages"])
    workspace_status = Counter(w["status"] for w in workspaces)
    assert len(customers) == customer_totals["all"] and len(subscribers) == subscriber_totals["all"]
    return {
        "customers": customer_totals["all"],
        "customersByStatus": [{"status": s.value, "count": customer_totals[s.value]} for s in CustomerStatus],
        "customersByPackage": [{"package": p, "count": held[p]} for p in CATALOGUE],
        "subscribers": subscriber_totals["all"],
        "subscribersByStatus": [{"status": s.value, "count": subscriber_totals[s.value]} for s in SubscriberStatus],
        "subscribersByPackage": [{"package": p, "count": subscriber_totals[f"p_{p}"]} for p in CATALOGUE],
        "workspacesByStatus": [{"status": s.value, "count": workspace_status[s.value]} for s in WorkspaceStatus],
        "retrying": sum(map(_retrying, [*customers, *subscribers, *workspaces])),
    }


@pytest.mark.parametrize(("who", "ownership", "customers", "subscribers", "retrying"), [
    ("partner", {}, PARENT_CUSTOMERS, PARENT_SUBSCRIBERS, 1),
    ("partner", {"includeSubPartners": True}, PARENT_CUSTOMERS + SUB_A_CUSTOMERS + SUB_B_CUSTOMERS,
     PARENT_SUBSCRIBERS + SUB_A_SUBSCRIBERS + SUB_B_SUBSCRIBERS, 1),
    ("sub_a", {}, SUB_A_CUSTOMERS, SUB_A_SUBSCRIBERS, 0),
], ids=["parent", "parent-with-sub-partners", "sub-partner"])
async def test_r_dash_1_every_count_equals_the_matching_lists_total_count(
        gateway: Gateway, demo: Demo, who: str, ownership: dict[str, Any], customers: int, subscribers: int,
        retrying: int) -> None:
    token = gateway.token(getattr(demo, who))
    counts = await _counts(gateway, token, ownership)
    assert counts == await _from_the_lists(gateway, token, ownership)
    assert (counts["customers"], counts["subscribers"], counts["retrying"]) == (customers, subscribers, retrying)
    # Not vacuous: the demo has customers in several statuses, add-ons and workspaces to count.
    assert sum(1 for row in counts["customersByStatus"] if row["count"]) >= 2
    if who == "partner":
        by_package = {row["package"]: row["count"] for row in counts["subscribersByPackage"]}
        assert by_package["attendant_console"] >= 1
        assert sum(row["count"] for row in counts["workspacesByStatus"]) >= 1


async def test_r_dash_1_a_parent_naming_a_sub_partner_counts_what_its_list_shows(gateway: Gateway,
                                                                                 demo: Demo) -> None:
    token = gateway.token(demo.partner)
    named = {"subPartnerOrgId": demo.sub_a}
    counts = await _counts(gateway, token, named)
    assert counts == await _counts(gateway, gateway.token(demo.sub_a), {})
    assert (counts["customers"], counts["subscribers"]) == (SUB_A_CUSTOMERS, SUB_A_SUBSCRIBERS)
    # Naming an org that is not its sub-partner (or nothing) shows nothing, as the lists do (R-ORG-6).
    for other in (demo.sub_a, "org_does_not_exist"):
        stranger = await _counts(gateway, gateway.token(demo.sub_b), {"subPartnerOrgId": other})
        assert stranger["customers"] == stranger["subscribers"] == 0


async def _customer_with_workspaces(gateway: Gateway, token: str) -> dict[str, Any]:
    customers = await _all(gateway, token, CUSTOMERS, "customers", {})
    return next(c for c in customers if c["workspaces"]["totalCount"] and c["packages"])


async def test_r_dash_1_customer_id_narrows_every_count_to_one_customer(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    customer = await _customer_with_workspaces(gateway, token)
    counts = await _counts(gateway, token, {"customerId": customer["id"]})
    subscribers = await _totals(gateway, token, "subscribers", {"of": {"customerId": customer["id"]}})
    assert counts["customers"] == 1
    assert [row["status"] for row in counts["customersByStatus"] if row["count"]] == [customer["status"]]
    assert {row["package"] for row in counts["customersByPackage"] if row["count"]} == {
        p["name"] for p in customer["packages"]}
    assert counts["subscribers"] == subscribers["of"]
    assert sum(row["count"] for row in counts["workspacesByStatus"]) == customer["workspaces"]["totalCount"]
    retrying = await _all(gateway, token, CUSTOMERS, "customers", {"externalId": "DASH-RETRY-1"})
    assert (await _counts(gateway, token, {"customerId": retrying[0]["id"]}))["retrying"] == 1


async def test_r_dash_1_another_tenants_customer_counts_as_a_missing_one(gateway: Gateway, demo: Demo) -> None:
    parent = gateway.token(demo.partner)
    sub_customer = (await _all(gateway, gateway.token(demo.sub_a), CUSTOMERS, "customers", {}))[0]["id"]
    parent_customer = (await _customer_with_workspaces(gateway, parent))["id"]
    zeros = await _counts(gateway, parent, {"customerId": "cus_does_not_exist"})
    assert zeros["customers"] == zeros["subscribers"] == zeros["retrying"] == 0
    assert all(row["count"] == 0 for part in ("customersByStatus", "subscribersByPackage", "workspacesByStatus")
               for row in zeros[part])
    # The sub-partner cannot see its parent's customer; the parent sees a sub-partner's only when it asks for them.
    assert await _counts(gateway, gateway.token(demo.sub_a), {"customerId": parent_customer}) == zeros
    assert await _counts(gateway, parent, {"customerId": sub_customer}) == zeros
    assert (await _counts(gateway, parent, {"customerId": sub_customer, "includeSubPartners": True}))[
        "customers"] == 1


async def test_r_dash_1_each_part_needs_the_read_scope_of_its_list(gateway: Gateway, demo: Demo) -> None:
    blind = gateway.token(demo.partner, "full_admin", scopes=["wholesale_customers_read"])
    list_refusal = await gateway.errors(blind, "{ subscribers { totalCount } }")
    # The customer parts are the customer list's: allowed.
    counts = (await gateway.execute(blind, "{ dashboardCounts { customers customersByPackage { count } } }"))
    assert counts["dashboardCounts"]["customers"] == PARENT_CUSTOMERS
    # A subscriber or workspace part, or `retrying` (which counts them too), is refused as the subscriber list is.
    for part in ("subscribers", "subscribersByStatus { count }", "workspacesByStatus { count }", "retrying"):
        errors = await gateway.errors(blind, f"{{ dashboardCounts {{ customers {part} }} }}")
        assert [(e["extensions"]["code"], e["message"]) for e in errors] == [
            (e["extensions"]["code"], e["message"]) for e in list_refusal], part
        assert errors[0]["path"] == ["dashboardCounts"]
    # Viewing sub-partners needs full_admin, as the customer list says.
    reader = gateway.token(demo.partner, "read_only_admin")
    for ownership in ({"includeSubPartners": True}, {"subPartnerOrgId": demo.sub_a}):
        refused = await gateway.errors(reader, COUNTS, {"filter": ownership})
        listed = await gateway.errors(reader, "query($f: CustomerFilter) { customers(filter: $f) { totalCount } }",
                                      {"f": ownership})
        assert [e["message"] for e in refused] == [e["message"] for e in listed]
        assert refused[0]["extensions"]["code"] == "FORBIDDEN"


async def test_r_dash_1_counts_are_one_aggregation(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    gateway.repos.partners.recent.forget([demo.partner])
    scopes: list[dict[str, Any]] = [{}, {"includeSubPartners": True}, {"subPartnerOrgId": demo.sub_a,
                                                                       "customerId": "cus_x"}]
    for n, ownership in enumerate(scopes):
        gateway.commands.targets.clear()
        gateway.commands.enabled = True
        await _counts(gateway, token, ownership)
        gateway.commands.enabled = False
        # The first operation reads its caller's org (resolvers.context.Context.caller), which the next ones find
        # read a moment ago (domain.store.recent); the counts add one aggregation, whatever the scope (a named
        # sub-partner is not loaded), and no getMore.
        assert gateway.commands.targets == ["find partners"] * (n == 0) + ["aggregate customers"], ownership


@pytest.mark.own_gateway
@pytest.mark.settled_demo
async def test_r_dash_1_retrying_subscribers_count_where_their_lists_show_them(gateway: Gateway, demo: Demo) -> None:
    parent = gateway.token(demo.partner)
    data = customer_input(await provisioning_id(gateway, demo.sub_a), "DASHR-1")
    customer = await provision(gateway, parent, data, on_behalf=demo.sub_a)
    await gateway.settle()
    # From now on every Webex step for this customer fails for a while: its new subscribers retry.
    gateway.runtime.engine.rules.append(FaultRule(Fault.TRANSIENT, "DASHR-"))
    for n, email in enumerate(("ada@dashr.example", "bob@dashr.example")):
        payload = (await gateway.execute(parent, PROVISION_SUBSCRIBER, {"input": subscriber_input(
            customer["id"], email, extension=f"300{n}"), "for": demo.sub_a}))["provisionSubscriber"]
        assert payload["errors"] == [], payload
    await gateway.settle()
    sub_a = gateway.token(demo.sub_a)
    assert (await _counts(gateway, sub_a, {"customerId": customer["id"]}))["retrying"] == 2
    for token, ownership in ((sub_a, {}), (parent, {"includeSubPartners": True})):
        assert await _counts(gateway, token, ownership) == await _from_the_lists(gateway, token, ownership)
    # The parent's own view leaves its sub-partners' retrying subscribers out, as its lists do (R-ORG-3).
    assert (await _counts(gateway, parent, {}))["retrying"] == (await _from_the_lists(gateway, parent, {}))[
        "retrying"]
