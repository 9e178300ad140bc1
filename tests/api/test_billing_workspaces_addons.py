"""Billing of workspaces and user add-ons (R-WS-2, R-BIL-4 amended 2026-12, R-ADD-2).

A workspace is billed for `common_area_calling` from `provisioned` to its removal, on USER rows that carry its
`workspaceId` instead of a subscriber; an add-on on a subscriber is an assignment of its own, with its own interval
and its own USER row; the customer-level `cisco_calling_plan` is billed a unit a day per calling subscriber or
workspace with a phone number (decision). Every report type includes them. Figures are computed by hand from the
instants the clock is set to (see tests/api/billing.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.api.billing import Tenancy, at, tenancy
from tests.api.provisioning import (
    PROVISION_SUBSCRIBER,
    UPDATE,
    UPDATE_SUBSCRIBER,
    customer_input,
    provision,
    subscriber_input,
)
from tests.api.test_workspaces import DELETE_WS, PROVISION_WS
from tests.conftest import Gateway

ROWS = """query($id: ID!) { billingReport(id: $id) { status rows(first: 100) { edges { node {
  serviceName quantity customerExternalId locationId subscriberId userId workspaceId
} } } } }"""
US_NUMBER = "+12175550123"


@pytest.fixture
async def t(gateway: Gateway) -> Tenancy:
    return await tenancy(gateway)


async def _customer(t: Tenancy, external_id: str, packages: list[str], when: datetime) -> str:
    t.gateway.clock.set(when)
    data = customer_input(t.templates[t.partner], external_id, packages=packages)
    customer = await provision(t.gateway, t.token(t.partner), data)
    await t.gateway.settle()
    return str(customer["id"])


async def _report(t: Tenancy, kind: str, start: str = "2026-11-01", end: str = "2026-11-05"
                  ) -> list[dict[str, Any]]:
    created = await t.create(t.token(t.partner), start, end, kind)
    await t.gateway.settle()
    report = (await t.gateway.execute(t.token(t.partner), ROWS, {"id": created["id"]}))["billingReport"]
    assert report["status"] == "COMPLETED", report
    return [e["node"] for e in report["rows"]["edges"]]


async def _workspace(t: Tenancy, customer_id: str, when: datetime, **fields: Any) -> str:
    t.gateway.clock.set(when)
    result = (await t.gateway.execute(t.token(t.partner), PROVISION_WS, {"input": {
        "customerId": customer_id, "name": "Lobby phone", "extension": "3001", **fields}}))["provisionWorkspace"]
    assert result["errors"] == [], result
    await t.gateway.settle()
    return str(result["workspace"]["id"])


async def _delete_workspace(t: Tenancy, workspace_id: str, when: datetime) -> None:
    t.gateway.clock.set(when)
    result = (await t.gateway.execute(t.token(t.partner), DELETE_WS, {"id": workspace_id}))["deleteWorkspace"]
    assert result["errors"] == [], result
    await t.gateway.settle()


async def test_r_ws_2_a_workspace_is_billed_from_provisioned_to_removal_on_rows_with_its_id(t: Tenancy) -> None:
    """R-WS-2, R-BIL-4 (amended 2026-12): USER rows carry `workspaceId`; every report type includes workspaces."""
    customer = await _customer(t, "WS-BILL-1", ["webex_calling", "common_area_calling"], at(1))
    workspace = await _workspace(t, customer, at(2, 12))
    await _delete_workspace(t, workspace, at(4))
    # 12:00 on day 2 to 00:00 on day 4: 0.5 + 1 (R-BIL-4 amended: workspaceId instead of subscriberId/userId).
    [row] = await _report(t, "USER")
    assert (row["serviceName"], row["quantity"], row["workspaceId"], row["subscriberId"], row["userId"]) == (
        "common_area_calling", 1.5, workspace, None, None)
    assert row["customerExternalId"] == "WS-BILL-1" and row["locationId"]
    # Every report type includes it.
    for kind in ("CUSTOMER", "PARTNER"):
        [summed] = await _report(t, kind)
        assert (summed["serviceName"], summed["quantity"], summed["workspaceId"]) == ("common_area_calling", 1.5,
                                                                                      None)


async def test_r_ws_2_a_workspace_that_never_got_provisioned_bills_nothing(t: Tenancy) -> None:
    customer = await _customer(t, "WS-BILL-2", ["webex_calling", "common_area_calling"], at(1))
    t.gateway.clock.set(at(2))
    result = (await t.gateway.execute(t.token(t.partner), PROVISION_WS, {"input": {
        "customerId": customer, "name": "Door", "extension": "3001"}}))["provisionWorkspace"]
    assert result["errors"] == []
    # Deleted before its background work ran: never provisioned, never billed.
    deleted = (await t.gateway.execute(t.token(t.partner), DELETE_WS, {"id": result["workspace"]["id"]}))
    assert deleted["deleteWorkspace"]["errors"] == []
    await t.gateway.settle()
    assert await _report(t, "USER") == []


async def test_r_add_2_an_add_on_is_billed_on_its_own_row_with_its_own_interval(t: Tenancy) -> None:
    """R-ADD-2, R-BIL-4 (amended 2026-12): add-ons are in the USER and CUSTOMER reports, each on its own row."""
    customer = await _customer(t, "ADDON-BILL-1", ["webex_calling", "attendant_console"], at(1))
    t.gateway.clock.set(at(2))
    made = await t.gateway.execute(t.token(t.partner), PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer, "ada@addons.example", addOns=["attendant_console"])})
    assert made["provisionSubscriber"]["errors"] == [], made
    subscriber = made["provisionSubscriber"]["subscriber"]["id"]
    await t.gateway.settle()
    # The add-on is dropped at 12:00 on day 3; the base package stays.
    t.gateway.clock.set(at(3, 12))
    changed = await t.gateway.execute(t.token(t.partner), UPDATE_SUBSCRIBER, {"id": subscriber, "input": {
        "package": "webex_calling", "extension": "2001", "addOns": []}})
    assert changed["updateSubscriber"]["errors"] == [], changed
    await t.gateway.settle()
    user_rows = {r["serviceName"]: r for r in await _report(t, "USER")}
    assert {name: r["quantity"] for name, r in user_rows.items()} == {"webex_calling": 4.0,
                                                                      "attendant_console": 1.5}
    assert {r["subscriberId"] for r in user_rows.values()} == {subscriber}
    assert all(r["workspaceId"] is None for r in user_rows.values())
    customer_rows = {r["serviceName"]: r["quantity"] for r in await _report(t, "CUSTOMER")}
    assert customer_rows == {"webex_calling": 4.0, "attendant_console": 1.5}


async def test_r_add_2_the_calling_plan_is_billed_per_numbered_subscriber_and_workspace(t: Tenancy) -> None:
    """R-ADD-2 (decision): `cisco_calling_plan`, a unit a day per calling subscriber or workspace with a number."""
    customer = await _customer(t, "CCP-BILL-1", ["webex_calling", "common_area_calling", "cisco_calling_plan"],
                               at(1))
    workspace = await _workspace(t, customer, at(2), primaryPhoneNumber=US_NUMBER)
    await _workspace(t, customer, at(2), name="Back door", extension="3002")  # no number: no calling plan
    t.gateway.clock.set(at(3))
    made = await t.gateway.execute(t.token(t.partner), PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer, "bob@plan.example", extension="2002")})  # no number either
    assert made["provisionSubscriber"]["errors"] == [], made
    await t.gateway.settle()
    plan_rows = [r for r in await _report(t, "USER") if r["serviceName"] == "cisco_calling_plan"]
    assert [(r["workspaceId"], r["quantity"]) for r in plan_rows] == [(workspace, 4.0)]


async def test_r_add_2_a_calling_plan_added_later_bills_numbered_workspaces_from_then(t: Tenancy) -> None:
    customer = await _customer(t, "CCP-BILL-2", ["webex_calling", "common_area_calling"], at(1))
    workspace = await _workspace(t, customer, at(2), primaryPhoneNumber=US_NUMBER)
    t.gateway.clock.set(at(3, 12))
    changed = await t.gateway.execute(t.token(t.partner), UPDATE, {"id": customer, "input": {
        "packages": ["webex_calling", "common_area_calling", "cisco_calling_plan"]}})
    assert changed["updateCustomer"]["errors"] == [], changed
    await t.gateway.settle()
    plan_rows = [r for r in await _report(t, "USER") if r["serviceName"] == "cisco_calling_plan"]
    # From 12:00 on day 3, when the customer's plan was provisioned, to the end of day 5.
    assert [(r["workspaceId"], r["quantity"]) for r in plan_rows] == [(workspace, 2.5)]
