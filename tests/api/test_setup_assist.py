"""Setup Assist through the API (DOMAIN.md §18, R-SA-1/2, R-ORG-4…6, R-EVT-1, R-BIL-4 amended).

A partner requests Setup Assist for a location of a provisioned customer; the platform takes it on and completes or
cancels it; the partner cancels it while it is submitted. Completion bills it once, on that day. The tests' "today"
is Sunday 22 November 2026, so the earliest target date (6 business days ahead) is Monday 30 November.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.api.billing import Tenancy, at, rows, tenancy
from tests.api.provisioning import (
    PROVISION_SUBSCRIBER,
    current,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    refused,
    subscriber_input,
)
from tests.conftest import NOW, Demo, Gateway

pytestmark = pytest.mark.settled_demo

REQUEST_FIELDS = """id sku seats contactName contactEmail targetDate status createdAt completedAt version
  location { id name }"""
REQUEST = f"""mutation($input: SetupAssistInput!, $for: ID) {{
  requestSetupAssist(input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    request {{ {REQUEST_FIELDS} }} errors {{ code message field }} }} }}"""
CANCEL = f"""mutation($id: ID!, $for: ID) {{
  cancelSetupAssist(id: $id, onBehalfOfSubPartnerOrgId: $for) {{
    request {{ {REQUEST_FIELDS} }} errors {{ code message field }} }} }}"""
SET_STATUS = f"""mutation($id: ID!, $status: SetupAssistStatus!) {{
  setSetupAssistStatus(id: $id, status: $status) {{ request {{ {REQUEST_FIELDS} }} errors {{ code message field }} }}
}}"""
CUSTOMER_REQUESTS = f"query($id: ID!) {{ customer(id: $id) {{ setupAssistRequests {{ {REQUEST_FIELDS} }} }} }}"
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on SetupAssistRequest {{ {REQUEST_FIELDS} }} }} }}"
EVENTS = """query($ids: [ID!]) {
  provisioningEvents(filter: {entityTypes: [SETUP_ASSIST_REQUEST], customerIds: $ids}, first: 50) {
    edges { node { entityId fromStatus toStatus version setupAssistRequest { id status } } } } }"""
EARLIEST = "2026-11-30"


def _input(location: str, **overrides: Any) -> dict[str, Any]:
    return {"locationId": location, "contactName": "Ana Silva", "contactEmail": "Ana@Example.com",
            "targetDate": EARLIEST, **overrides}


def _problems(errors: list[dict[str, Any]]) -> list[tuple[str, list[str] | None]]:
    return sorted(((e["code"], e["field"]) for e in errors), key=repr)


async def _customer(gateway: Gateway, token: str, owner: str, external_id: str = "SA-1", *, settle: bool = True
                    ) -> dict[str, Any]:
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, owner), external_id))
    if settle:
        await gateway.settle()
        customer = await current(gateway, token, customer["id"])
    return customer


async def _request(gateway: Gateway, token: str, input: dict[str, Any], on_behalf: str | None = None
                   ) -> dict[str, Any]:
    payload = (await gateway.execute(token, REQUEST, {"input": input, "for": on_behalf}))["requestSetupAssist"]
    assert payload["errors"] == [], payload
    request: dict[str, Any] = payload["request"]
    return request


async def _set(gateway: Gateway, request: str, status: str) -> dict[str, Any]:
    payload: dict[str, Any] = (await gateway.execute(gateway.token(None, "platform_admin"), SET_STATUS, {
        "id": request, "status": status}))["setSetupAssistStatus"]
    return payload


async def _workspaces_at(gateway: Gateway, customer: str, location: str, owner: str, n: int, first: int = 1
                         ) -> None:
    """Workspaces placed at a location, as DOMAIN.md §14 stores them (only their location and status matter here)."""
    db = gateway.runtime.db
    assert db is not None
    await db.collection("workspaces").insert_many([
        {"_id": f"wsp_{i:024d}", "customerId": customer, "locationId": location, "ownerOrgId": owner,
         "name": f"Desk {i}", "nameKey": f"desk {i}", "status": "provisioned"} for i in range(first, first + n)])


async def test_r_sa_1_a_request_for_a_location_of_a_provisioned_customer(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    hq = customer["locations"][0]
    request = await _request(gateway, token, _input(hq["id"]))
    assert {k: request[k] for k in ("sku", "seats", "contactName", "contactEmail", "targetDate", "status",
                                    "completedAt", "version")} == {
        "sku": "EXPRESS", "seats": 0, "contactName": "Ana Silva", "contactEmail": "ana@example.com",
        "targetDate": EARLIEST, "status": "submitted", "completedAt": None, "version": 1}
    assert request["location"] == {"id": hq["id"], "name": "HQ"}
    listed = (await gateway.execute(token, CUSTOMER_REQUESTS, {"id": customer["id"]}))["customer"]
    assert listed["setupAssistRequests"] == [request]
    assert (await gateway.execute(token, NODE, {"id": request["id"]}))["node"] == request
    assert (await gateway.execute(gateway.token(demo.sub_a, "full_admin"), NODE, {"id": request["id"]}))[
        "node"] is None  # R-ORG-6
    events = (await gateway.execute(token, EVENTS, {"ids": [customer["id"]]}))["provisioningEvents"]["edges"]
    assert [e["node"] for e in events] == [{"entityId": request["id"], "fromStatus": None, "toStatus": "submitted",
                                           "version": 1,
                                           "setupAssistRequest": {"id": request["id"], "status": "submitted"}}]


async def test_r_sa_1_seats_are_the_locations_calling_subscribers_and_workspaces(gateway: Gateway,
                                                                                 demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    hq = customer["locations"][0]["id"]
    for n, (email, package) in enumerate((("ada@example.com", "webex_calling"),
                                          ("bob@example.com", "webex_calling"),
                                          ("cy@example.com", "webex_meetings"))):
        extension = {"extension": str(2001 + n)} if package != "webex_meetings" else {"extension": None}
        made = await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
            customer["id"], email, package=package, **extension)})
        assert made["provisionSubscriber"]["errors"] == [], made
    await gateway.settle()
    await _workspaces_at(gateway, customer["id"], hq, demo.partner, 3)
    request = await _request(gateway, token, _input(hq))
    # Two calling subscribers (the meetings one has no location) and three workspaces: 5 seats, EXPRESS.
    assert (request["seats"], request["sku"]) == (5, "EXPRESS")
    assert (await gateway.execute(token, CANCEL, {"id": request["id"]}))["cancelSetupAssist"]["errors"] == []
    # One seat more is STANDARD (the SKU is fixed when requested).
    await _workspaces_at(gateway, customer["id"], hq, demo.partner, 1, first=4)
    again = await _request(gateway, token, _input(hq))
    assert (again["seats"], again["sku"]) == (6, "STANDARD")


async def test_r_sa_1_the_target_date_needs_six_business_days(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    errors = await refused(gateway, token, REQUEST, {"input": _input(customer["locations"][0]["id"],
                                                                     targetDate="2026-11-27")})
    assert _problems(errors) == [("SETUP_ASSIST_LEAD_TIME", ["input", "targetDate"])]


async def test_r_sa_1_every_problem_of_a_request_at_once(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    errors = await refused(gateway, token, REQUEST, {"input": _input(
        "loc_" + "0" * 24, contactName="", contactEmail="nobody", targetDate="2026-11-23")})
    assert _problems(errors) == [("INVALID_EMAIL", ["input", "contactEmail"]), ("NOT_FOUND", ["input", "locationId"]),
                                 ("REQUIRED", ["input", "contactName"]),
                                 ("SETUP_ASSIST_LEAD_TIME", ["input", "targetDate"])]


async def test_r_sa_1_one_open_request_per_location(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    hq = customer["locations"][0]["id"]
    first = await _request(gateway, token, _input(hq))
    errors = await refused(gateway, token, REQUEST, {"input": _input(hq, targetDate="2026-12-15")})
    assert _problems(errors) == [("INVALID_STATE", ["input", "locationId"])]
    assert (await _set(gateway, first["id"], "in_progress"))["errors"] == []
    errors = await refused(gateway, token, REQUEST, {"input": _input(hq, targetDate="2026-12-15")})
    assert _problems(errors) == [("INVALID_STATE", ["input", "locationId"])]
    assert (await _set(gateway, first["id"], "cancelled"))["errors"] == []
    assert (await _request(gateway, token, _input(hq)))["status"] == "submitted"


async def test_r_sa_1_only_for_a_provisioned_customer(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner, settle=False)
    assert customer["status"] == "provisioning"
    errors = await refused(gateway, token, REQUEST, {"input": _input(customer["locations"][0]["id"])})
    assert _problems(errors) == [("INVALID_STATE", ["input", "locationId"])]


async def test_r_org_6_another_tenants_location_and_request_look_missing(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    request = await _request(gateway, token, _input(customer["locations"][0]["id"]))
    other = gateway.token(demo.sub_a, "full_admin")
    errors = await refused(gateway, other, REQUEST, {"input": _input(customer["locations"][0]["id"])})
    assert _problems(errors) == [("NOT_FOUND", ["input", "locationId"])]
    errors = await refused(gateway, other, CANCEL, {"id": request["id"]})
    assert _problems(errors) == [("NOT_FOUND", ["id"])]


async def test_r_org_4_a_parent_requests_for_its_sub_partner(gateway: Gateway, demo: Demo) -> None:
    sub = gateway.token(demo.sub_a, "full_admin")
    customer = await _customer(gateway, sub, demo.sub_a, "SA-SUB")
    parent = partner_token(gateway, demo)
    request = await _request(gateway, parent, _input(customer["locations"][0]["id"]), on_behalf=demo.sub_a)
    assert (await gateway.execute(sub, NODE, {"id": request["id"]}))["node"]["id"] == request["id"]
    errors = await refused(gateway, parent, REQUEST, {"input": _input(customer["locations"][0]["id"]),
                                                      "for": "ptn_" + "0" * 24})
    assert _problems(errors) == [("NOT_A_SUB_PARTNER", ["onBehalfOfSubPartnerOrgId"])]


async def test_r_sa_2_the_platform_moves_a_request_the_partner_only_cancels_it_while_submitted(
        gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    request = await _request(gateway, token, _input(customer["locations"][0]["id"]))
    # Only a platform_admin moves it.
    async with gateway.writes_nothing():
        body = (await gateway.post(token, SET_STATUS, {"id": request["id"], "status": "in_progress"})).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    errors = (await _set(gateway, request["id"], "completed"))["errors"]
    assert _problems(errors) == [("INVALID_STATE", ["status"])]
    started = await _set(gateway, request["id"], "in_progress")
    assert (started["request"]["status"], started["request"]["version"]) == ("in_progress", 2)
    errors = await refused(gateway, token, CANCEL, {"id": request["id"]})
    assert _problems(errors) == [("INVALID_STATE", ["id"])]
    gateway.clock.set(datetime(2026, 11, 22, 15, 0, tzinfo=UTC))
    done = (await _set(gateway, request["id"], "completed"))["request"]
    assert (done["status"], done["completedAt"], done["version"]) == ("completed", "2026-11-22T15:00:00+00:00", 3)
    assert _problems((await _set(gateway, request["id"], "cancelled"))["errors"]) == [("INVALID_STATE", ["status"])]
    events = [e for e in await gateway.events(entityType="SETUP_ASSIST_REQUEST") if e["entityId"] == request["id"]]
    assert [(e["fromStatus"], e["toStatus"], e["version"]) for e in events] == [
        (None, "submitted", 1), ("submitted", "in_progress", 2), ("in_progress", "completed", 3)]


async def test_r_sa_2_the_partner_cancels_a_submitted_request(gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer = await _customer(gateway, token, demo.partner)
    request = await _request(gateway, token, _input(customer["locations"][0]["id"]))
    cancelled = (await gateway.execute(token, CANCEL, {"id": request["id"]}))["cancelSetupAssist"]
    assert cancelled["errors"] == [] and cancelled["request"]["status"] == "cancelled"


@pytest.fixture
async def t(gateway: Gateway) -> Tenancy:
    return await tenancy(gateway)


async def _completed(t: Tenancy, customer: dict[str, Any], seats_from_workspaces: int, done: datetime) -> str:
    gateway = t.gateway
    token = t.token(t.partner)
    location = str((await current(gateway, token, customer["id"]))["locations"][0]["id"])
    if seats_from_workspaces:
        await _workspaces_at(gateway, customer["id"], location, t.partner, seats_from_workspaces)
    gateway.clock.set(at(2))
    request = await _request(gateway, token, _input(location, targetDate="2026-11-10"))
    assert (await _set(gateway, request["id"], "in_progress"))["errors"] == []
    gateway.clock.set(done)
    assert (await _set(gateway, request["id"], "completed"))["errors"] == []
    gateway.clock.set(NOW)
    return location


async def test_r_sa_2_a_completed_express_request_is_billed_once_with_quantity_one(t: Tenancy) -> None:
    customer = await t.customer(t.partner, "SA-BILL-1", at(1))
    location = await _completed(t, customer, 0, at(5, 14))
    token = t.token(t.partner)
    for kind in ("PARTNER", "CUSTOMER", "USER"):
        report = await t.generated(token, "2026-11-01", "2026-11-10", kind)
        [row] = [r for r in rows(report) if r["serviceName"].startswith("setup_assist")]
        assert (row["serviceName"], row["sku"], row["quantity"]) == ("setup_assist_express", "A-WXCW-SA-EXPRESS",
                                                                     1.0)
        assert (row["consumptionStartDate"], row["consumptionEndDate"]) == ("2026-11-05", "2026-11-05")
        if kind != "PARTNER":
            assert row["customerExternalId"] == "SA-BILL-1"
        if kind == "USER":
            assert row["locationId"] == location and row["subscriberId"] is None
    # Billed on its day only.
    report = await t.generated(token, "2026-11-06", "2026-11-10", "CUSTOMER")
    assert [r for r in rows(report) if r["serviceName"].startswith("setup_assist")] == []


async def test_r_sa_2_a_completed_standard_request_is_billed_per_seat(t: Tenancy) -> None:
    customer = await t.customer(t.partner, "SA-BILL-2", at(1))
    await _completed(t, customer, 7, at(6, 9))
    report = await t.generated(t.token(t.partner), "2026-11-01", "2026-11-10", "CUSTOMER")
    [row] = [r for r in rows(report) if r["serviceName"].startswith("setup_assist")]
    assert (row["serviceName"], row["sku"], row["quantity"]) == ("setup_assist_standard", "A-WXCW-SA-STANDARD", 7.0)
