from __future__ import annotations

from typing import Any

import pytest

from tests.api.demo_counts import PARENT_SUBSCRIBERS
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.read_only  # one gateway and demo for the module (tests/conftest.py)

LIST = """query($first: Int, $after: String, $order: SubscriberOrder, $filter: SubscriberFilter) {
  subscribers(first: $first, after: $after, orderBy: $order, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id email firstName lastName package status isAdmin extension primaryPhoneNumber
                   createdAt lastStatusChange location { name } customer { id externalId } } }
  }
}"""


async def _list(gateway: Gateway, token: str, **variables: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await gateway.execute(token, LIST, variables))["subscribers"]
    return result


async def test_subscriber_list_covers_the_callers_customers(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    everything = await _list(gateway, token, first=100)
    assert everything["totalCount"] == PARENT_SUBSCRIBERS and len(everything["edges"]) == 100
    owners = {e["node"]["customer"]["id"] for e in everything["edges"]}
    own = await gateway.execute(token, "{ customers(first: 100) { edges { node { id } } } }")
    assert owners <= {e["node"]["id"] for e in own["customers"]["edges"]}


@pytest.mark.parametrize(
    ("order", "key", "reverse"),
    [("CREATED_DESC", "createdAt", True), ("CREATED_ASC", "createdAt", False),
     ("LAST_STATUS_CHANGE_DESC", "lastStatusChange", True)],
)
async def test_subscriber_orders(gateway: Gateway, demo: Demo, order: str, key: str, reverse: bool) -> None:
    page = await _list(gateway, gateway.token(demo.partner), first=100, order=order)
    values = [e["node"][key] for e in page["edges"]]
    assert values == sorted(values, reverse=reverse)


async def test_subscriber_filters(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    one = (await _list(gateway, token, first=1))["edges"][0]["node"]
    by_email = await _list(gateway, token, filter={"email": one["email"].upper()})
    assert [e["node"]["id"] for e in by_email["edges"]] == [one["id"]]
    by_customer = await _list(gateway, token, first=100, filter={"customerId": one["customer"]["id"]})
    assert by_customer["totalCount"] >= 4
    assert {e["node"]["customer"]["id"] for e in by_customer["edges"]} == {one["customer"]["id"]}
    by_external = await _list(gateway, token, first=100, filter={"externalCustomerId": one["customer"]["externalId"]})
    assert by_external["totalCount"] == by_customer["totalCount"]
    meetings = await _list(gateway, token, first=100, filter={"package": "webex_meetings"})
    assert meetings["totalCount"] > 0 and {e["node"]["package"] for e in meetings["edges"]} == {"webex_meetings"}
    waiting = await _list(gateway, token, first=100, filter={"status": "provisioning"})
    assert waiting["totalCount"] > 0 and {e["node"]["status"] for e in waiting["edges"]} == {"provisioning"}
    newest = sorted(e["node"]["lastStatusChange"] for e in (await _list(gateway, token, first=100))["edges"])[-3]
    recent = await _list(gateway, token, first=100, filter={"lastStatusChangeAfter": newest})
    assert recent["totalCount"] == 2
    unknown = await _list(gateway, token, filter={"externalCustomerId": "EXT-nope"})
    assert unknown["totalCount"] == 0 and unknown["edges"] == []


async def test_subscriber_paging_has_no_gaps(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    seen: list[str] = []
    after = None
    while True:
        page = await _list(gateway, token, first=40, after=after)
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == PARENT_SUBSCRIBERS == len(set(seen))


async def test_subscriber_by_id_and_its_relations(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    calling = await _list(gateway, token, first=1, filter={"package": "webex_calling", "status": "provisioned"})
    node = calling["edges"][0]["node"]
    data = await gateway.execute(
        token, "query($id: ID!) { subscriber(id: $id) { id email location { name isHeadquarters } "
               "customer { id externalId } version } }", {"id": node["id"]})
    assert data["subscriber"]["location"] == {"name": "Headquarters", "isHeadquarters": True}
    assert data["subscriber"]["customer"] == node["customer"]


async def test_nested_subscribers_filter_and_count(gateway: Gateway, demo: Demo) -> None:
    query = """{ customers(first: 100) { edges { node { externalId
        all: subscribers(first: 2) { totalCount edges { node { id } } pageInfo { hasNextPage } }
        meetings: subscribers(filter: {package: webex_meetings}) { totalCount edges { node { package } } }
    } } } }"""
    data = await gateway.execute(gateway.token(demo.partner), query)
    for edge in data["customers"]["edges"]:
        c = edge["node"]
        assert len(c["all"]["edges"]) == min(2, c["all"]["totalCount"])
        assert c["all"]["pageInfo"]["hasNextPage"] == (c["all"]["totalCount"] > 2)
        assert c["meetings"]["totalCount"] == len(c["meetings"]["edges"])
        assert all(s["node"]["package"] == "webex_meetings" for s in c["meetings"]["edges"])


async def test_nested_subscribers_page_on(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    query = """query($after: String) { customers(first: 1, filter: {externalId: "EXT-1001"}) { edges { node {
        subscribers(first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id } } }
    } } } }"""
    seen: list[str] = []
    after = None
    while True:
        conn = (await gateway.execute(token, query, {"after": after}))["customers"]["edges"][0]["node"]["subscribers"]
        seen += [e["node"]["id"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert len(seen) == conn["totalCount"] == len(set(seen))


async def test_node_resolves_every_type(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner)
    ids = await gateway.execute(token, """{ viewer { partner { id } }
        onboardingTemplates(first: 1) { edges { node { id } } }
        customers(first: 1, filter: {externalId: "EXT-1000"}) { edges { node { id locations { id }
            subscribers(first: 1) { edges { node { id } } } } } } }""")
    customer = ids["customers"]["edges"][0]["node"]
    expected = {
        ids["viewer"]["partner"]["id"]: "Partner",
        ids["onboardingTemplates"]["edges"][0]["node"]["id"]: "OnboardingTemplate",
        customer["id"]: "Customer",
        customer["locations"][0]["id"]: "Location",
        customer["subscribers"]["edges"][0]["node"]["id"]: "Subscriber",
    }
    for node_id, typename in expected.items():
        data = await gateway.execute(token, "query($id: ID!) { node(id: $id) { __typename id } }", {"id": node_id})
        assert data["node"] == {"__typename": typename, "id": node_id}
    for unknown in ["cus_000000000000000000000000", "nonsense", "", "sub_x"]:
        data = await gateway.execute(token, "query($id: ID!) { node(id: $id) { id } }", {"id": unknown})
        assert data["node"] is None
