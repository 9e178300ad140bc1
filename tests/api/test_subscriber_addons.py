"""User add-ons through the API (DOMAIN.md §3 R-PKG-3 amended 2026-12, §3.1 R-ADD-1): `addOns` on provision and
update, `Subscriber.addOns` / `packages`, `SubscriberFilter.addOn` / `locationId`, and every refusal (payload errors
with a field path, nothing written)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.provisioning import (
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    refused,
    subscriber_input,
)
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.settled_demo

FIELDS = "id status package addOns packages version location { id } customer { id }"
PROVISION = f"""mutation($input: ProvisionSubscriberInput!, $for: ID) {{
  provisionSubscriber(input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    subscriber {{ {FIELDS} }} errors {{ code message field }} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateSubscriberInput!, $for: ID) {{
  updateSubscriber(id: $id, input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    subscriber {{ {FIELDS} }} errors {{ code message field }} }} }}"""
SUBSCRIBER = f"query($id: ID!) {{ subscriber(id: $id) {{ {FIELDS} }} }}"
LIST = """query($filter: SubscriberFilter) { subscribers(filter: $filter, first: 100) {
  totalCount edges { node { id } } } }"""
NESTED = """query($id: ID!, $filter: SubscriberFilter) { customer(id: $id) {
  packages { name assigned } subscribers(filter: $filter) { totalCount edges { node { id } } } } }"""
ADD_ONS = ["input", "addOns"]
PACKAGE = ["input", "package"]


async def _customer(gateway: Gateway, token: str, owner: str, external_id: str = "ADD-1",
                    packages: list[str] | None = None, limits: list[dict[str, Any]] | None = None) -> str:
    data = customer_input(await provisioning_id(gateway, owner), external_id,
                          packages=packages or ["webex_calling", "webex_meetings", "attendant_console"])
    if limits:
        data["provisioningParameters"] = {**data["provisioningParameters"], "limits": limits}
    customer = await provision(gateway, token, data)
    await gateway.settle()
    return str(customer["id"])


async def _provision(gateway: Gateway, token: str, data: dict[str, Any]) -> dict[str, Any]:
    payload = (await gateway.execute(token, PROVISION, {"input": data}))["provisionSubscriber"]
    assert payload["errors"] == [], payload
    subscriber: dict[str, Any] = payload["subscriber"]
    return subscriber


async def _update(gateway: Gateway, token: str, subscriber_id: str, data: dict[str, Any]) -> dict[str, Any]:
    payload = (await gateway.execute(token, UPDATE, {"id": subscriber_id, "input": data}))["updateSubscriber"]
    assert payload["errors"] == [], payload
    subscriber: dict[str, Any] = payload["subscriber"]
    return subscriber


async def _read(gateway: Gateway, token: str, subscriber_id: str) -> dict[str, Any]:
    subscriber: dict[str, Any] = (await gateway.execute(token, SUBSCRIBER, {"id": subscriber_id}))["subscriber"]
    return subscriber


def _problems(errors: list[dict[str, Any]]) -> list[tuple[str, list[str] | None]]:
    return sorted(((e["code"], e["field"]) for e in errors), key=repr)


async def test_r_add_1_provision_with_attendant_console(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    created = await _provision(gateway, token, subscriber_input(customer, "ada@example.com",
                                                                addOns=["attendant_console"]))
    assert (created["addOns"], created["packages"]) == (["attendant_console"], ["webex_calling", "attendant_console"])
    await gateway.settle()
    settled = await _read(gateway, token, created["id"])
    assert settled["status"] == "provisioned" and settled["addOns"] == ["attendant_console"]
    # Without addOns a subscriber holds its base package alone.
    plain = await _provision(gateway, token, subscriber_input(customer, "bob@example.com", extension="2002"))
    assert (plain["addOns"], plain["packages"]) == ([], ["webex_calling"])


async def test_r_pkg_3_cisco_calling_plan_and_common_area_calling_are_not_assignable(
        gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner, packages=[
        "webex_calling", "attendant_console", "cisco_calling_plan", "common_area_calling"])
    for package in ("cisco_calling_plan", "common_area_calling", "webex_meetings"):
        errors = await refused(gateway, token, PROVISION, {"input": subscriber_input(
            customer, "ada@example.com", addOns=[package])})
        assert _problems(errors) == [("PACKAGE_NOT_ASSIGNABLE", ADD_ONS)], package


async def test_r_add_1_the_customer_must_hold_the_add_on(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner, packages=["webex_calling", "webex_meetings"])
    errors = await refused(gateway, token, PROVISION, {"input": subscriber_input(
        customer, "ada@example.com", addOns=["attendant_console"])})
    assert _problems(errors) == [("PACKAGE_NOT_ON_CUSTOMER", ADD_ONS)]


async def test_r_add_1_attendant_console_needs_a_calling_base(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    meetings = subscriber_input(customer, "ada@example.com", package="webex_meetings", addOns=["attendant_console"])
    del meetings["extension"]
    errors = await refused(gateway, token, PROVISION, {"input": meetings})
    assert _problems(errors) == [("PACKAGE_DEPENDENCY", ADD_ONS)]


async def test_r_add_1_limit_counts_holders_of_the_add_on(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner, limits=[{"package": "attendant_console", "limit": 1}])
    first = await _provision(gateway, token, subscriber_input(customer, "one@example.com",
                                                              addOns=["attendant_console"]))
    errors = await refused(gateway, token, PROVISION, {"input": subscriber_input(
        customer, "two@example.com", extension="2002", addOns=["attendant_console"])})
    assert _problems(errors) == [("PACKAGE_LIMIT_REACHED", ADD_ONS)]
    # The add-on's holders are its `assigned`; the base package counts them as well.
    data = await gateway.execute(token, NESTED, {"id": customer, "filter": None})
    assigned = {p["name"]: p["assigned"] for p in data["customer"]["packages"]}
    assert assigned["attendant_console"] == 1 and assigned["webex_calling"] == 1
    # A subscriber without the add-on does not count, and one dropping it frees the place.
    await gateway.settle()
    await _update(gateway, token, first["id"], {"package": "webex_calling", "extension": "2001", "addOns": []})
    await _provision(gateway, token, subscriber_input(customer, "two@example.com", extension="2002",
                                                      addOns=["attendant_console"]))


async def test_r_add_1_update_replaces_the_list_and_absent_keeps_it(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner, packages=[
        "webex_calling", "webex_suite", "webex_meetings", "attendant_console"])
    created = await _provision(gateway, token, subscriber_input(customer, "ada@example.com"))
    await gateway.settle()
    added = await _update(gateway, token, created["id"], {"package": "webex_calling", "extension": "2001",
                                                          "addOns": ["attendant_console"]})
    assert (added["status"], added["addOns"], added["version"]) == ("updating", ["attendant_console"],
                                                                    created["version"] + 2)
    await gateway.settle()
    assert (await _read(gateway, token, created["id"]))["status"] == "provisioned"
    # No addOns: the add-on stays, also across a base change that still carries it.
    kept = await _update(gateway, token, created["id"], {"package": "webex_suite", "extension": "2001"})
    assert kept["addOns"] == ["attendant_console"] and kept["packages"] == ["webex_suite", "attendant_console"]
    await gateway.settle()
    dropped = await _update(gateway, token, created["id"], {"package": "webex_suite", "extension": "2001",
                                                            "addOns": []})
    assert dropped["addOns"] == []
    # The change is an UPDATE event with the add-ons before and after (R-AUD-1).
    updates = await gateway.events(entityId=created["id"], action="UPDATE")
    assert [c for e in updates for c in e["changes"] if c["field"] == "addOns"][-1] == {
        "field": "addOns", "from": '["attendant_console"]', "to": "[]"}


async def test_r_add_1_a_base_change_breaking_the_add_on_must_drop_it(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    # The customer's first subscriber is its admin, who may not lose capabilities (R-SUB-2): not this one.
    await _provision(gateway, token, subscriber_input(customer, "admin@example.com", extension="2009"))
    created = await _provision(gateway, token, subscriber_input(customer, "ada@example.com",
                                                                addOns=["attendant_console"]))
    await gateway.settle()
    meetings = {"package": "webex_meetings"}
    errors = await refused(gateway, token, UPDATE, {"id": created["id"], "input": meetings})
    assert _problems(errors) == [("PACKAGE_DEPENDENCY", PACKAGE)]
    errors = await refused(gateway, token, UPDATE, {"id": created["id"], "input": {
        **meetings, "addOns": ["attendant_console"]}})
    assert _problems(errors) == [("PACKAGE_DEPENDENCY", ADD_ONS)]
    moved = await _update(gateway, token, created["id"], {**meetings, "addOns": []})
    assert (moved["package"], moved["addOns"]) == ("webex_meetings", [])


async def test_r_add_1_filters_by_add_on_and_location(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    holder = await _provision(gateway, token, subscriber_input(customer, "ada@example.com",
                                                               addOns=["attendant_console"]))
    other = await _provision(gateway, token, subscriber_input(customer, "bob@example.com", extension="2002"))
    by_add_on = await gateway.execute(token, LIST, {"filter": {"addOn": "attendant_console", "customerId": customer}})
    assert [e["node"]["id"] for e in by_add_on["subscribers"]["edges"]] == [holder["id"]]
    nested = await gateway.execute(token, NESTED, {"id": customer, "filter": {"addOn": "attendant_console"}})
    assert nested["customer"]["subscribers"]["totalCount"] == 1
    location = holder["location"]["id"]
    at = await gateway.execute(token, LIST, {"filter": {"locationId": location}})
    assert {e["node"]["id"] for e in at["subscribers"]["edges"]} == {holder["id"], other["id"]}
    nowhere = await gateway.execute(token, LIST, {"filter": {"locationId": "loc_" + "0" * 24}})
    assert nowhere["subscribers"]["totalCount"] == 0
