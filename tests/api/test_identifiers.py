"""Webex identifiers through the API (DOMAIN.md §18, R-IDS-1): a provisioned subscriber's `personId` (filterable) and
a provisioned customer package's `licenseIds` (the REST API's `includePackageLicenseInfo`).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from domain.store.engine import Fault, FaultRule
from tests.api.provisioning import (
    PROVISION_SUBSCRIBER,
    UPDATE_SUBSCRIBER,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    subscriber_input,
)
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.settled_demo

SUBSCRIBER = "query($id: ID!) { subscriber(id: $id) { id status personId } }"
BY_PERSON = """query($person: ID!, $sub: Boolean) {
  subscribers(filter: {personId: $person, includeSubPartners: $sub}) { totalCount edges { node { id personId } } } }"""
PACKAGES = "query($id: ID!) { customer(id: $id) { status packages { name status licenseIds } } }"


async def _customer(gateway: Gateway, token: str, owner: str, external_id: str, **overrides: Any) -> str:
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, owner), external_id,
                                                              **overrides))
    return str(customer["id"])


async def _packages(gateway: Gateway, token: str, customer: str) -> dict[str, list[str]]:
    data = (await gateway.execute(token, PACKAGES, {"id": customer}))["customer"]
    return {p["name"]: p["licenseIds"] for p in data["packages"]}


async def test_r_ids_1_a_subscriber_gets_its_person_id_when_provisioned_and_keeps_it(gateway: Gateway,
                                                                                     demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner, "IDS-1")
    made = await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(customer, "ada@ids.example")})
    subscriber = made["provisionSubscriber"]["subscriber"]["id"]
    assert (await gateway.execute(token, SUBSCRIBER, {"id": subscriber}))["subscriber"]["personId"] is None
    await gateway.settle()
    read = (await gateway.execute(token, SUBSCRIBER, {"id": subscriber}))["subscriber"]
    assert read["status"] == "provisioned"
    person = read["personId"]
    assert uuid.UUID(person)  # a Webex-style id of its own, not the subscriber's id
    # An update keeps it, while it runs and after.
    updated = await gateway.execute(token, UPDATE_SUBSCRIBER, {"id": subscriber, "input": {
        "package": "webex_calling", "extension": "2002"}})
    assert updated["updateSubscriber"]["errors"] == []
    assert (await gateway.execute(token, SUBSCRIBER, {"id": subscriber}))["subscriber"] == {
        "id": subscriber, "status": "updating", "personId": person}
    await gateway.settle()
    assert (await gateway.execute(token, SUBSCRIBER, {"id": subscriber}))["subscriber"]["personId"] == person


async def test_r_ids_1_subscribers_are_filtered_by_person_id(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner, "IDS-2")
    ids = []
    for n, email in enumerate(("ada@ids.example", "bob@ids.example")):
        made = await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
            customer, email, extension=str(2001 + n))})
        ids.append(made["provisionSubscriber"]["subscriber"]["id"])
    await gateway.settle()
    person = (await gateway.execute(token, SUBSCRIBER, {"id": ids[1]}))["subscriber"]["personId"]
    found = (await gateway.execute(token, BY_PERSON, {"person": person}))["subscribers"]
    assert (found["totalCount"], [e["node"] for e in found["edges"]]) == (1, [{"id": ids[1], "personId": person}])
    # R-ORG-6: another tenant finds nothing by it.
    other = (await gateway.execute(gateway.token(demo.sub_a, "full_admin"), BY_PERSON, {"person": person}))
    assert other["subscribers"]["totalCount"] == 0
    unknown = (await gateway.execute(token, BY_PERSON, {"person": str(uuid.uuid4())}))["subscribers"]
    assert unknown["totalCount"] == 0


async def test_r_ids_1_customer_packages_show_licence_ids_once_provisioned(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner, "IDS-3")
    assert await _packages(gateway, token, customer) == {"webex_calling": [], "webex_meetings": []}
    await gateway.settle()
    licences = await _packages(gateway, token, customer)
    assert set(licences) == {"webex_calling", "webex_meetings"}
    assert all(len(ids) == 1 and uuid.UUID(ids[0]) for ids in licences.values())
    assert licences["webex_calling"] != licences["webex_meetings"]
    assert await _packages(gateway, token, customer) == licences  # stable


async def test_r_ids_1_a_package_that_failed_has_no_licence(gateway: Gateway, demo: Demo) -> None:
    gateway.runtime.engine.rules.append(FaultRule(Fault.CALLING_MAINTENANCE, "IDS-FAULT"))
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner, "IDS-FAULT-1")
    await gateway.settle()
    data = (await gateway.execute(token, PACKAGES, {"id": customer}))["customer"]
    assert data["status"] == "provisioned_with_errors"
    by_name = {p["name"]: p for p in data["packages"]}
    assert (by_name["webex_calling"]["status"], by_name["webex_calling"]["licenseIds"]) == ("error", [])
    assert len(by_name["webex_meetings"]["licenseIds"]) == 1
