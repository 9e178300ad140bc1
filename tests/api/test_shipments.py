"""Trial device shipments through the API and the background (DOMAIN.md §10, R-TRI-7; R-ORG-2/3/6, R-TRI-2, R-NOT-4).

A trial of the demo's resale partner asks for devices; the simulated logistics side ships them seconds later (tracking
number, serials, DEVICE_SHIPPED), delivers them two days later; the trial's devices end, the shipments are due back
14 days later, and the platform records their return or the timer makes them overdue (DEVICE_RETURN_OVERDUE).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from domain.model.entities import Address
from domain.model.errors import DomainError
from domain.model.trials import Trial, TrialStatus
from domain.rules.shipments import ShipmentRequest
from domain.services.shipments import request_shipments, start_returns
from domain.store.repositories import Tx
from gateway.demo import DEMO_RESALE_PARTNER_ID, DEMO_RESALE_SUB_PARTNER_ID
from tests.conftest import NOW, Demo, Gateway

pytestmark = pytest.mark.settled_demo

FIELDS = "id deviceType quantity status trackingNumber serialNumbers shippedAt returnDueAt returnedAt"
LOOKUP = f"query($t: String!) {{ deviceShipment(trackingNumber: $t) {{ {FIELDS} }} }}"
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on DeviceShipment {{ {FIELDS} }} }} }}"
RETURN = f"""mutation($id: ID!, $serials: [String!]!) {{ recordDeviceReturn(shipmentId: $id, serialNumbers: $serials) {{
  shipment {{ {FIELDS} }} errors {{ code field }} }} }}"""
SALES = "seller@fjord-cloud.example"
ADDRESS = Address(address_line1="Strandkaien 1", city="Bergen", country="NO")


async def _trial(gateway: Gateway, name: str = "Bryggen Bakeri") -> Trial:
    trial = Trial.model_validate({
        "_id": f"trl_{name[:4].lower():0<24}"[:28], "ownerOrgId": DEMO_RESALE_PARTNER_ID,
        "rootOrgId": DEMO_RESALE_PARTNER_ID, "createdBy": SALES, "creatorEmail": SALES, "companyName": name,
        "adminEmail": "it@bakeri.example", "industry": "Retail", "country": "NO", "dataRegion": "EU",
        "services": ["DEVICES"], "status": TrialStatus.ACTIVE, "startedAt": NOW, "endsAt": NOW + timedelta(days=30),
        "createdAt": NOW, "lastStatusChange": NOW})
    await gateway.repos.trials.insert(trial.to_doc())
    return trial


async def _request(gateway: Gateway, trial: Trial, *types: str) -> list[str]:
    async def write(tx: Tx) -> list[str]:
        made = await request_shipments(gateway.repos, tx, trial, [ShipmentRequest(t, 2, ADDRESS) for t in types])
        return [s.id for s in made]

    return await gateway.repos.atomic(write)


async def _end_devices(gateway: Gateway, trial: Trial) -> None:
    async def write(tx: Tx) -> None:
        await start_returns(gateway.repos, tx, trial.id)

    await gateway.repos.atomic(write)


async def _node(gateway: Gateway, shipment_id: str) -> dict[str, Any]:
    node: dict[str, Any] = (await gateway.execute(gateway.token(None, "platform_admin"), NODE, {"id": shipment_id}))[
        "node"]
    return node


async def _mail(gateway: Gateway, kind: str) -> dict[str, list[str]]:
    assert gateway.runtime.db is not None
    docs = await gateway.runtime.db.find("notifications", {"kind": kind})
    return {d["audience"]: sorted(d["to"]) for d in docs}


async def test_r_tri_7_a_shipment_is_shipped_delivered_due_back_and_returned_with_its_serials(
        gateway: Gateway, demo: Demo) -> None:
    trial = await _trial(gateway)
    headset, phone = await _request(gateway, trial, "headset", "Desk_Phone")
    with pytest.raises(DomainError) as again:  # one shipment per type per trial, ever
        await _request(gateway, trial, "headset")
    assert [e.code.value for e in again.value.errors] == ["SHIPMENT_EXISTS"]
    assert (await _node(gateway, phone))["status"] == "requested"

    gateway.clock.advance(timedelta(seconds=5))  # the simulated logistics side picks them up
    await gateway.settle()
    shipped = await _node(gateway, headset)
    assert shipped["status"] == "shipped" and re.fullmatch(r"D\d{9}", shipped["trackingNumber"])
    assert len(shipped["serialNumbers"]) == 2 and shipped["returnDueAt"] is None
    # R-NOT-4: DEVICE_SHIPPED to the partner admins (notificationEmails + the creator) and the customer's admin.
    assert await _mail(gateway, "DEVICE_SHIPPED") == {
        "PARTNER_ADMINS": ["sales-desk@fjord-cloud.example", SALES], "CUSTOMER_ADMINS": ["it@bakeri.example"]}

    # Lookup by tracking number: the owner's admins, platform_admin and the creating sales_admin see it; a sibling
    # sales_admin, the owner's sub-partner and a wholesale partner get null, like a number that does not exist.
    tracking = shipped["trackingNumber"]
    seen = {
        who: (await gateway.execute(token, LOOKUP, {"t": tracking.lower()}))["deviceShipment"]
        for who, token in {
            "full_admin": gateway.token(DEMO_RESALE_PARTNER_ID), "platform": gateway.token(None, "platform_admin"),
            "creator": gateway.token(DEMO_RESALE_PARTNER_ID, "sales_admin", subject=SALES),
            "other_sales": gateway.token(DEMO_RESALE_PARTNER_ID, "sales_admin", subject="other@fjord-cloud.example"),
            "sub_partner": gateway.token(DEMO_RESALE_SUB_PARTNER_ID), "wholesale": gateway.token(demo.partner),
        }.items()}
    assert {who for who, found in seen.items() if found} == {"full_admin", "platform", "creator"}
    assert seen["full_admin"] == shipped
    assert (await gateway.execute(gateway.token(None, "platform_admin"), LOOKUP, {"t": "D000000000"}))[
        "deviceShipment"] is None

    # Not due back yet: a return is refused and writes nothing; only platform_admin may record one.
    platform = gateway.token(None, "platform_admin")
    async with gateway.writes_nothing():
        early = (await gateway.execute(platform, RETURN, {"id": headset, "serials": shipped["serialNumbers"]}))
    assert early["recordDeviceReturn"] == {"shipment": None, "errors": [{"code": "INVALID_STATE",
                                                                          "field": ["shipmentId"]}]}
    forbidden = await gateway.errors(gateway.token(DEMO_RESALE_PARTNER_ID), RETURN, {"id": headset, "serials": []})
    async with gateway.writes_nothing():
        missing = await gateway.execute(platform, RETURN, {"id": "shp_" + "0" * 24, "serials": []})
    assert missing["recordDeviceReturn"]["errors"] == [{"code": "NOT_FOUND", "field": ["shipmentId"]}]
    assert forbidden[0]["extensions"]["code"] == "FORBIDDEN"

    gateway.clock.advance(timedelta(days=2))  # delivered
    await gateway.settle()
    assert (await _node(gateway, headset))["status"] == "delivered"

    await _end_devices(gateway, trial)  # e.g. the trial's deletion: both are due back in 14 days
    due = await _node(gateway, headset)
    assert due["status"] == "return_due"
    assert due["returnDueAt"] == (gateway.clock.now() + timedelta(days=14)).isoformat()

    async with gateway.writes_nothing():  # R-TRI-7: exactly the serials shipped
        wrong = await gateway.execute(platform, RETURN, {"id": headset, "serials": shipped["serialNumbers"][:1]})
    assert wrong["recordDeviceReturn"]["errors"] == [{"code": "SERIAL_MISMATCH", "field": ["serialNumbers"]}]
    serials = [s.lower() for s in reversed(shipped["serialNumbers"])]  # any order, any case
    back = (await gateway.execute(platform, RETURN, {"id": headset, "serials": serials}))["recordDeviceReturn"]
    assert back["errors"] == [] and back["shipment"]["status"] == "returned"
    assert back["shipment"]["returnedAt"] == gateway.clock.now().isoformat()

    gateway.clock.advance(timedelta(days=14))  # the desk phones are not back: overdue, the partner admins told
    await gateway.settle()
    assert (await _node(gateway, phone))["status"] == "return_overdue"
    assert (await _node(gateway, headset))["status"] == "returned"
    assert await _mail(gateway, "DEVICE_RETURN_OVERDUE") == {
        "PARTNER_ADMINS": ["sales-desk@fjord-cloud.example", SALES]}

    # R-TRI-STATE: shipments emit DEVICE_SHIPMENT events, one per change, versions in step.
    events = await gateway.events(entityType="DEVICE_SHIPMENT", entityId=headset)
    assert [(e["fromStatus"], e["toStatus"], e["version"]) for e in events] == [
        (None, "requested", 1), ("requested", "shipped", 2), ("shipped", "delivered", 3),
        ("delivered", "return_due", 4), ("return_due", "returned", 5)]
    assert events[1]["details"]["trackingNumber"] == tracking and events[0]["ownerOrgId"] == DEMO_RESALE_PARTNER_ID


async def test_r_tri_7_devices_ending_before_shipping_or_delivery(gateway: Gateway, demo: Demo) -> None:
    """A shipment not shipped when the trial's devices end is never sent; one on its way is due back on delivery."""
    trial = await _trial(gateway, "Nordnes Nett")
    (kit,) = await _request(gateway, trial, "room_kit")
    gateway.clock.advance(timedelta(seconds=5))
    await gateway.settle()
    (pro,) = await _request(gateway, trial, "desk_pro")
    await _end_devices(gateway, trial)
    assert [(await _node(gateway, s))["status"] for s in (kit, pro)] == ["shipped", "requested"]
    gateway.clock.advance(timedelta(days=2))
    await gateway.settle()
    delivered_due = await _node(gateway, kit)
    assert delivered_due["status"] == "return_due"
    assert delivered_due["returnDueAt"] == (NOW + timedelta(seconds=5) + timedelta(days=14)).isoformat()
    never = await _node(gateway, pro)
    assert (never["status"], never["trackingNumber"]) == ("requested", None)
    kit_events = await gateway.events(entityType="DEVICE_SHIPMENT", entityId=kit)
    assert [e["toStatus"] for e in kit_events] == ["requested", "shipped", "shipped", "delivered", "return_due"]


EVENTS = """query { provisioningEvents(filter: {entityTypes: [DEVICE_SHIPMENT]}, first: 100) {
  edges { node { entityId toStatus deviceShipment { trackingNumber status } } } } }"""
DEMO_TRIALS = """query { trials(filter: {companyNameContains: "Kvarteret"}) { edges { node { companyName
  shipments { deviceType status trackingNumber trial { companyName } } } } } }"""


async def test_r_tri_7_the_demo_trial_shows_its_shipments_and_the_worker_ships_the_requested_one(
        gateway: Gateway, demo: Demo) -> None:
    """Trial.shipments and DeviceShipment.trial over the demo's device trial (started through the trials service);
    its desk phones, asked for just before the demo's `now`, were shipped by the first settle."""
    sales = gateway.token(DEMO_RESALE_PARTNER_ID, "sales_admin", subject="sales@fjord-cloud.example")
    (edge,) = (await gateway.execute(sales, DEMO_TRIALS))["trials"]["edges"]
    found = {s["deviceType"]: s for s in edge["node"]["shipments"]}
    assert {t: s["status"] for t, s in found.items()} == {
        "desk_pro": "delivered", "headset": "shipped", "desk_phone": "shipped"}
    assert all(s["trial"] == {"companyName": "Kvarteret Café"} for s in found.values())
    looked_up = (await gateway.execute(sales, LOOKUP, {"t": found["desk_phone"]["trackingNumber"]}))["deviceShipment"]
    assert looked_up["status"] == "shipped" and len(looked_up["serialNumbers"]) == 3
    # R-TRI-STATE: DEVICE_SHIPMENT events in the feed, with the shipment as it is now.
    feed = (await gateway.execute(gateway.token(DEMO_RESALE_PARTNER_ID), EVENTS))["provisioningEvents"]["edges"]
    shipped = [e["node"] for e in feed if e["node"]["toStatus"] == "shipped"]
    assert found["desk_phone"]["trackingNumber"] in {e["deviceShipment"]["trackingNumber"] for e in shipped}
