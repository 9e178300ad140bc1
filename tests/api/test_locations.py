"""Locations through the API (DOMAIN.md §6, R-LOCN-1/2, R-ORG-4…6, R-EVT-1, R-AUD-1).

Branches are added, changed and deleted synchronously; each change is an event of entity type LOCATION (→ `active`,
an UPDATE with its field changes, → `deleted`). Refusals come back in the payload and write nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.provisioning import (
    PROVISION_SUBSCRIBER,
    SUBSCRIBER,
    UPDATE_SUBSCRIBER,
    current,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    refused,
    subscriber_input,
)
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.settled_demo

LOCATION_FIELDS = """id name isHeadquarters timezone language emergencyLocationIdentifier version
  subscriberCount workspaceCount customer { id }
  address { addressLine1 addressLine2 city stateOrProvince zipOrPostalCode country }"""
ADD = f"""mutation($customer: ID!, $input: CallingLocationInput!, $for: ID) {{
  addLocation(customerId: $customer, input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    location {{ {LOCATION_FIELDS} }} errors {{ code message field }} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateLocationInput!, $for: ID) {{
  updateLocation(id: $id, input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    location {{ {LOCATION_FIELDS} }} errors {{ code message field }} }} }}"""
DELETE = """mutation($id: ID!, $for: ID) {
  deleteLocation(id: $id, onBehalfOfSubPartnerOrgId: $for) { deletedId errors { code message field } } }"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on Location {{ {LOCATION_FIELDS} }} }} }}"
LOCATION_EVENTS = """query($ids: [ID!]) {
  provisioningEvents(filter: {entityTypes: [LOCATION], customerIds: $ids}, first: 50) {
    edges { node { entityId fromStatus toStatus version location { id name } } } } }"""
UPDATE_EVENTS = """query($ids: [ID!]) {
  provisioningEvents(filter: {entityTypes: [LOCATION], customerIds: $ids, actions: [UPDATE]}, first: 50) {
    edges { node { action entityId location { id } changes { field from to } } } } }"""
SET_STATE = """mutation($id: ID!, $state: SubPartnerState!) {
  setSubPartnerState(id: $id, state: $state) { partner { id provisioningState } errors { code } } }"""
US = {"addressLine1": "9 Elm Street", "city": "Springfield", "stateOrProvince": "IL", "zipOrPostalCode": "62702",
      "country": "US"}
UNKNOWN_ORG = "ptn_" + "0" * 24


def _branch(**overrides: Any) -> dict[str, Any]:
    return {"name": "Branch North", "address": US, "timezone": "America/Chicago", "language": "en_US", **overrides}


def _problems(errors: list[dict[str, Any]]) -> list[tuple[str, list[str] | None]]:
    return sorted(((e["code"], e["field"]) for e in errors), key=repr)


async def _customer(gateway: Gateway, token: str, owner: str, external_id: str = "LOC-1", *, settle: bool = True,
                    **overrides: Any) -> dict[str, Any]:
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, owner), external_id,
                                                              **overrides))
    if settle:
        await gateway.settle()
        customer = await current(gateway, token, customer["id"])
    return customer


async def _add(gateway: Gateway, token: str, customer_id: str, input: dict[str, Any], on_behalf: str | None = None
               ) -> dict[str, Any]:
    payload = (await gateway.execute(token, ADD, {"customer": customer_id, "input": input,
                                                  "for": on_behalf}))["addLocation"]
    assert payload["errors"] == [], payload
    location: dict[str, Any] = payload["location"]
    return location


async def _location_events(gateway: Gateway, location_id: str) -> list[dict[str, Any]]:
    # Every action (creation, UPDATE, deletion), not only the status changes v1 readers get.
    return [e for e in await gateway.events(entityType="LOCATION", action={"$in": ["STATUS_CHANGE", "UPDATE"]})
            if e["entityId"] == location_id]


async def test_r_locn_1_a_branch_is_added_changed_and_deleted_with_its_events(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    branch = await _add(gateway, token, customer["id"], _branch(name=" Branch North ", language="en-us",
                                                                emergencyLocationIdentifier="E911-12"))
    assert (branch["name"], branch["language"], branch["isHeadquarters"], branch["version"]) == (
        "Branch North", "en_US", False, 1)
    assert (branch["emergencyLocationIdentifier"], branch["subscriberCount"], branch["workspaceCount"]) == (
        "E911-12", 0, 0)
    assert branch["customer"]["id"] == customer["id"]
    names = [loc["name"] for loc in (await current(gateway, token, customer["id"]))["locations"]]
    assert names == ["HQ", "Branch North"]  # headquarters first

    updated = (await gateway.execute(token, UPDATE, {"id": branch["id"], "input": {
        "timezone": "America/New_York", "name": "Branch North"}}))["updateLocation"]
    assert updated["errors"] == [] and updated["location"]["timezone"] == "America/New_York"
    assert updated["location"]["version"] == 2

    deleted = (await gateway.execute(token, DELETE, {"id": branch["id"]}))["deleteLocation"]
    assert deleted == {"deletedId": branch["id"], "errors": []}
    assert (await gateway.execute(token, NODE, {"id": branch["id"]}))["node"] is None

    events = await _location_events(gateway, branch["id"])
    assert [(e["action"], e["fromStatus"], e["toStatus"], e["version"]) for e in events] == [
        ("STATUS_CHANGE", None, "active", 1), ("UPDATE", "active", "active", 2),
        ("STATUS_CHANGE", "active", "deleted", 3)]
    assert all(e["customerId"] == customer["id"] and e["ownerOrgId"] == demo.partner for e in events)
    # R-AUD-1: the UPDATE carries only what changed (the same name is no change), JSON-encoded.
    assert events[1]["changes"] == [{"field": "timezone", "from": json.dumps("America/Chicago"),
                                     "to": json.dumps("America/New_York")}]
    read = await gateway.execute(token, UPDATE_EVENTS, {"ids": [customer["id"]]})
    assert [e["node"] for e in read["provisioningEvents"]["edges"]] == [{
        "action": "UPDATE", "entityId": branch["id"], "location": None,  # gone by now
        "changes": [{"field": "timezone", "from": '"America/Chicago"', "to": '"America/New_York"'}]}]


async def test_r_locn_1_location_events_resolve_their_location(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    branch = await _add(gateway, token, customer["id"], _branch())
    data = await gateway.execute(token, LOCATION_EVENTS, {"ids": [customer["id"]]})
    nodes = [e["node"] for e in data["provisioningEvents"]["edges"]]
    assert [(n["entityId"], n["toStatus"], n["location"]) for n in nodes] == [
        (branch["id"], "active", {"id": branch["id"], "name": "Branch North"})]


async def test_r_locn_1_a_location_is_a_node(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    branch = await _add(gateway, token, customer["id"], _branch())
    assert (await gateway.execute(token, NODE, {"id": branch["id"]}))["node"] == branch
    # R-ORG-6: another tenant sees nothing.
    other = gateway.token(demo.sub_a, "full_admin")
    assert (await gateway.execute(other, NODE, {"id": branch["id"]}))["node"] is None


async def test_r_locn_1_an_update_that_changes_nothing_writes_nothing(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    branch = await _add(gateway, token, customer["id"], _branch())
    async with gateway.writes_nothing("an update to the same values"):
        same = (await gateway.execute(token, UPDATE, {"id": branch["id"], "input": {
            "name": "Branch North", "timezone": "America/Chicago"}}))["updateLocation"]
    assert same["errors"] == [] and same["location"]["version"] == 1


async def test_r_locn_1_names_are_unique_per_customer(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    branch = await _add(gateway, token, customer["id"], _branch())
    errors = await refused(gateway, token, ADD, {"customer": customer["id"], "input": _branch(name="hq")})
    assert _problems(errors) == [("NAME_IN_USE", ["input", "name"])]
    errors = await refused(gateway, token, UPDATE, {"id": branch["id"], "input": {"name": "HQ"}})
    assert _problems(errors) == [("NAME_IN_USE", ["input", "name"])]
    # Another customer may use the same name.
    other = await _customer(gateway, token, demo.partner, "LOC-2")
    await _add(gateway, token, other["id"], _branch())


async def test_r_locn_1_every_field_problem_in_the_payload(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    errors = await refused(gateway, token, ADD, {"customer": customer["id"], "input": _branch(
        name="n" * 81, address={**US, "addressLine2": "x" * 51, "country": "ZZ"}, timezone="Nowhere/Else",
        language="klingon")})
    assert _problems(errors) == [
        ("INVALID_COUNTRY", ["input", "address", "country"]),
        ("INVALID_LOCALE", ["input", "language"]),
        ("INVALID_TIMEZONE", ["input", "timezone"]),
        ("TOO_LONG", ["input", "address", "addressLine2"]),
        ("TOO_LONG", ["input", "name"]),
    ]


async def test_r_locn_1_only_customers_with_calling_may_have_branches(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner, packages=["webex_meetings"],
                               provisioningParameters={"meetingsTimezone": "America/Chicago"})
    assert customer["status"] == "provisioned"
    errors = await refused(gateway, token, ADD, {"customer": customer["id"], "input": _branch()})
    assert _problems(errors) == [("LOCATION_NOT_ALLOWED", ["customerId"])]


async def test_r_locn_1_common_area_calling_alone_allows_branches(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner, packages=["common_area_calling"])
    assert customer["status"] == "provisioned"
    await _add(gateway, token, customer["id"], _branch())


async def test_r_locn_1_a_customer_not_yet_provisioned_takes_no_branch(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner, settle=False)
    assert customer["status"] == "provisioning"
    errors = await refused(gateway, token, ADD, {"customer": customer["id"], "input": _branch()})
    assert _problems(errors) == [("INVALID_STATE", ["customerId"])]


@pytest.mark.read_only
async def test_r_locn_1_needs_full_admin(gateway: Gateway, demo: Demo) -> None:
    token = gateway.token(demo.partner, "read_only_admin")
    async with gateway.writes_nothing():
        body = (await gateway.post(token, ADD, {"customer": "cus_" + "0" * 24, "input": _branch()})).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"] and body["data"] is None


async def test_r_org_6_another_tenants_customer_and_location_look_missing(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    branch = await _add(gateway, token, customer["id"], _branch())
    sub = gateway.token(demo.sub_a, "full_admin")
    missing = await refused(gateway, sub, ADD, {"customer": "cus_" + "0" * 24, "input": _branch()})
    foreign = await refused(gateway, sub, ADD, {"customer": customer["id"], "input": _branch()})
    assert _problems(missing) == _problems(foreign) == [("NOT_FOUND", ["customerId"])]
    for query, variables in ((UPDATE, {"id": branch["id"], "input": {"name": "Mine"}}),
                             (DELETE, {"id": branch["id"]}),
                             (UPDATE, {"id": "loc_" + "0" * 24, "input": {"name": "Mine"}})):
        assert _problems(await refused(gateway, sub, query, variables)) == [("NOT_FOUND", ["id"])]


async def test_r_org_4_a_parent_adds_a_branch_for_its_sub_partner(gateway: Gateway, demo: Demo) -> None:
    parent = partner_token(gateway, demo)
    sub = gateway.token(demo.sub_a, "full_admin")
    customer = await _customer(gateway, sub, demo.sub_a, "SUB-LOC")
    branch = await _add(gateway, parent, customer["id"], _branch(), on_behalf=demo.sub_a)
    assert (await gateway.execute(sub, NODE, {"id": branch["id"]}))["node"]["name"] == "Branch North"
    assert (await _location_events(gateway, branch["id"]))[0]["ownerOrgId"] == demo.sub_a
    errors = await refused(gateway, parent, ADD, {"customer": customer["id"], "input": _branch(name="X"),
                                                  "for": UNKNOWN_ORG})
    assert _problems(errors) == [("NOT_A_SUB_PARTNER", ["onBehalfOfSubPartnerOrgId"])]


async def test_r_org_5_a_suspended_sub_partner_may_only_delete_branches(gateway: Gateway, demo: Demo) -> None:
    platform = gateway.token(None, "platform_admin")
    assert (await gateway.execute(platform, SET_STATE, {"id": demo.sub_b, "state": "active"}))[
        "setSubPartnerState"]["errors"] == []
    token = gateway.token(demo.sub_b, "full_admin")
    customer = await _customer(gateway, token, demo.sub_b, "SUSP-LOC")
    branch = await _add(gateway, token, customer["id"], _branch())
    await gateway.execute(platform, SET_STATE, {"id": demo.sub_b, "state": "suspended"})
    errors = await refused(gateway, token, ADD, {"customer": customer["id"], "input": _branch(name="Other")})
    assert [e["code"] for e in errors] == ["SUB_PARTNER_SUSPENDED"]
    errors = await refused(gateway, token, UPDATE, {"id": branch["id"], "input": {"name": "Other"}})
    assert [e["code"] for e in errors] == ["SUB_PARTNER_SUSPENDED"]
    assert (await gateway.execute(token, DELETE, {"id": branch["id"]}))["deleteLocation"]["errors"] == []


async def test_r_locn_2_the_headquarters_cannot_be_deleted(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    hq = customer["locations"][0]
    assert hq["isHeadquarters"]
    errors = await refused(gateway, token, DELETE, {"id": hq["id"]})
    assert _problems(errors) == [("LOCATION_IN_USE", ["id"])]


async def test_r_locn_2_subscribers_move_between_locations_and_keep_theirs_in_use(gateway: Gateway,
                                                                                  demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    hq = customer["locations"][0]["id"]
    branch = await _add(gateway, token, customer["id"], _branch())
    created = (await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer["id"], "ada@example.com", locationId=branch["id"])}))["provisionSubscriber"]
    assert created["errors"] == [] and created["subscriber"]["location"]["id"] == branch["id"]
    subscriber = created["subscriber"]["id"]
    await gateway.settle()
    assert (await gateway.execute(token, NODE, {"id": branch["id"]}))["node"]["subscriberCount"] == 1
    errors = await refused(gateway, token, DELETE, {"id": branch["id"]})
    assert _problems(errors) == [("LOCATION_IN_USE", ["id"])]

    # Its update moves it (R-LOCN-2), and the branch is free to go; nothing cascades.
    moved = (await gateway.execute(token, UPDATE_SUBSCRIBER, {"id": subscriber, "input": {
        "package": "webex_calling", "extension": "2001", "locationId": hq}}))["updateSubscriber"]
    assert moved["errors"] == [] and moved["subscriber"]["location"]["id"] == hq
    await gateway.settle()
    assert (await gateway.execute(token, SUBSCRIBER, {"id": subscriber}))["subscriber"]["status"] == "provisioned"
    assert (await gateway.execute(token, NODE, {"id": branch["id"]}))["node"]["subscriberCount"] == 0
    assert (await gateway.execute(token, DELETE, {"id": branch["id"]}))["deleteLocation"]["errors"] == []
    assert (await gateway.execute(token, SUBSCRIBER, {"id": subscriber}))["subscriber"]["location"]["id"] == hq


async def test_r_locn_2_a_branch_with_a_workspace_cannot_be_deleted(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    branch = await _add(gateway, token, customer["id"], _branch())
    db = gateway.runtime.db
    assert db is not None
    # A workspace placed at the branch (as DOMAIN.md §14 stores it; only its location matters here).
    await db.collection("workspaces").insert_one({"_id": "wsp_" + "1" * 24, "customerId": customer["id"],
                                                  "locationId": branch["id"], "ownerOrgId": demo.partner,
                                                  "name": "Lobby", "nameKey": "lobby", "status": "provisioned"})
    assert (await gateway.execute(token, NODE, {"id": branch["id"]}))["node"]["workspaceCount"] == 1
    errors = await refused(gateway, token, DELETE, {"id": branch["id"]})
    assert _problems(errors) == [("LOCATION_IN_USE", ["id"])]
