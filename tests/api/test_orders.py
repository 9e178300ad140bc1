"""Orders and the setup wizard (DOMAIN.md §12) through the API: an order's whole life on the moving clock (R-ORD-1,
R-ORD-STATE, R-ORD-2…5, R-ORD-7, R-ORD-8), who may place and see orders (R-ORD-1, R-TRI-2, R-ORG-4/6), and two
racing wizards claiming one subdomain (R-ORD-6)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest

from domain.model.principal import LinkPurpose
from gateway.auth import issue_link_token
from gateway.demo import DEMO_RESALE_PARTNER_ID, DEMO_RESALE_SUB_PARTNER_ID
from tests.conftest import JWT_SECRET, NOW, Demo, Gateway

ORDER_FIELDS = """id status setupBy provisioningContactEmail setupEmailSentAt followUpSent customerAdminEmail
  subdomain billingStartedAt version createdBy lines { service quantity } org { id name subdomain partnerAccess }"""
F = "{ORDER}"


def _op(text: str) -> str:
    return text.replace(F, ORDER_FIELDS)


CREATE = _op("""mutation($input: CreateOrderInput!, $for: ID) {
  createOrder(input: $input, onBehalfOfSubPartnerOrgId: $for) { order { {ORDER} } errors { code field } } }""")
RESEND = _op("""mutation($id: ID!, $to: String) {
  resendOrderSetupEmail(id: $id, provisioningContactEmail: $to) { order { {ORDER} } errors { code field } } }""")
HANDOVER = _op("""mutation($id: ID!, $to: SetupResponsibility!, $email: String!) {
  handOverOrderSetup(id: $id, to: $to, email: $email) { order { {ORDER} } errors { code field } } }""")
COMPLETE = _op("""mutation($id: ID!, $input: CompleteOrderSetupInput!) {
  completeOrderSetup(id: $id, input: $input) { order { {ORDER} } errors { code field } } }""")
PROVISION = _op("""mutation($id: ID!) { provisionOrder(id: $id) { order { {ORDER} } errors { code field } } }""")
ORDER = _op("query($id: ID!) { order(id: $id) { {ORDER} } }")
ORDERS_STATUSES = "{ orders(first: 100) { totalCount edges { node { status } } } }"
ORDERS = """query($filter: OrderFilter) { orders(filter: $filter) { totalCount edges { node { id status } } } }"""

START = date(2026, 11, 25)  # three days after the tests' NOW


def _order_input(**overrides: Any) -> dict[str, Any]:
    return {"offer": "A_WX",
            "lines": [{"service": "MESSAGING", "quantity": 50}, {"service": "CALLING", "quantity": 20}],
            "requestedStartDate": START.isoformat(), "provisioningContactEmail": "orders-alias@fjord.example",
            **overrides}


def _setup(**overrides: Any) -> dict[str, Any]:
    return {"partnerOrgConfirmed": True, "customerAdminEmail": "it@nordlys.example",
            "newOrg": {"name": "Nordlys Bakeri", "country": "NO"}, "subdomain": "nordlys",
            "callingLocation": {"name": "Head office", "timezone": "Europe/Oslo", "language": "nb_NO",
                                "address": {"addressLine1": "Storgata 1", "city": "Oslo", "country": "NO"}},
            **overrides}


async def _link(gateway: Gateway, order_id: str) -> str:
    """The setup link the last ORDER_SETUP email carries (as the mail sender would sign it, R-NOT-6)."""
    doc = await gateway.repos.orders.find_doc(order_id)
    assert doc is not None
    return issue_link_token(JWT_SECRET, purpose=LinkPurpose.ORDER_SETUP, recipient=doc["linkHolderEmail"],
                            owner_org_id=doc["ownerOrgId"], entity_id=order_id, version=doc["linkVersion"],
                            expires_at=gateway.clock.now() + timedelta(days=30))


async def _mail(gateway: Gateway, order_id: str) -> list[tuple[str, str, list[str]]]:
    db = gateway.runtime.db
    assert db is not None
    docs = await db.find("notifications", {"entityId": order_id}, sort=[("createdAt", 1), ("_id", 1)])
    return [(d["kind"], d["audience"], list(d["to"])) for d in docs]


@pytest.mark.own_gateway
async def test_r_ord_state_an_order_from_placement_to_billing(gateway: Gateway, demo: Demo) -> None:
    """R-ORD-1, R-ORD-STATE, R-ORD-2, R-ORD-3, R-ORD-4, R-ORD-5, R-ORD-7, R-ORD-8 and R-NOT-6 on one order."""
    sales = gateway.token(DEMO_RESALE_PARTNER_ID, "sales_admin", subject="sam@fjord.example")
    placed = (await gateway.execute(sales, CREATE, {"input": _order_input()}))["createOrder"]
    assert placed["errors"] == []
    order = placed["order"]
    oid = order["id"]
    assert (order["status"], order["setupBy"], order["createdBy"]) == ("placed", "PARTNER", "sam@fjord.example")
    # R-ORD-STATE: nothing happens before the requested start date's 00:00 UTC; then the setup email (R-ORD-2).
    gateway.clock.advance(timedelta(days=2))
    await gateway.settle()
    assert (await gateway.execute(sales, ORDER, {"id": oid}))["order"]["status"] == "placed"
    gateway.clock.set(NOW.replace(day=25, hour=0))
    await gateway.settle()
    order = (await gateway.execute(sales, ORDER, {"id": oid}))["order"]
    assert order["status"] == "awaiting_setup" and order["setupEmailSentAt"] is not None
    assert await _mail(gateway, oid) == [("ORDER_SETUP", "PROVISIONING_CONTACT", ["orders-alias@fjord.example"])]
    # R-ORD-2: resent to a person; the alias's link stops working (R-NOT-6).
    alias_link = await _link(gateway, oid)
    resent = (await gateway.execute(sales, RESEND, {"id": oid, "to": "per@fjord.example"}))["resendOrderSetupEmail"]
    assert resent["order"]["provisioningContactEmail"] == "per@fjord.example"
    stale = await gateway.errors(alias_link, PROVISION, {"id": oid})
    assert [e["extensions"]["code"] for e in stale] == ["UNAUTHENTICATED"]
    # R-ORD-4: the person hands the setup to the customer: the partner loses the wizard.
    person = await _link(gateway, oid)
    handed = (await gateway.execute(person, HANDOVER, {"id": oid, "to": "CUSTOMER", "email": "it@nordlys.example"}))
    assert handed["handOverOrderSetup"]["order"]["setupBy"] == "CUSTOMER"
    refused = (await gateway.execute(sales, COMPLETE, {"id": oid, "input": _setup()}))["completeOrderSetup"]
    assert [e["code"] for e in refused["errors"]] == ["INVALID_STATE"]
    customer = await _link(gateway, oid)
    # R-ORD-8: the link holder sees its order and only it.
    assert (await gateway.execute(customer, ORDERS, {}))["orders"]["totalCount"] == 1
    # R-ORD-5: every problem at once, nothing stored; the link works again after.
    bad = _setup(partnerOrgConfirmed=False, newOrg=None, subdomain="-bad-", callingLocation=None)
    async with gateway.writes_nothing():
        failed = (await gateway.execute(customer, COMPLETE, {"id": oid, "input": bad}))["completeOrderSetup"]
    assert [(e["code"], e["field"]) for e in failed["errors"]] == [
        ("CONFIRMATION_REQUIRED", ["input", "partnerOrgConfirmed"]), ("REQUIRED", ["input", "newOrg"]),
        ("SUBDOMAIN_INVALID", ["input", "subdomain"]), ("REQUIRED", ["input", "callingLocation"])]
    done = (await gateway.execute(customer, COMPLETE, {"id": oid, "input": _setup()}))["completeOrderSetup"]
    assert done["errors"] == [] and done["order"]["status"] == "set_up"
    assert (done["order"]["customerAdminEmail"], done["order"]["subdomain"]) == ("it@nordlys.example", "nordlys")
    # R-ORD-3: not provisioning a day after the start date → one follow-up, to the contact and the partner admins.
    gateway.clock.advance(timedelta(days=1, hours=1))
    await gateway.settle()
    order = (await gateway.execute(sales, ORDER, {"id": oid}))["order"]
    assert order["followUpSent"] is True
    kinds = [(k, a) for k, a, _ in await _mail(gateway, oid)]
    assert kinds.count(("ORDER_SETUP_FOLLOW_UP", "PROVISIONING_CONTACT")) == 1
    assert ("ORDER_SETUP_FOLLOW_UP", "PARTNER_ADMINS") in kinds
    # R-ORD-7: provisioned in the background: a new org with the customer admin, billing started, partner NONE.
    provisioning = (await gateway.execute(customer, PROVISION, {"id": oid}))["provisionOrder"]
    assert provisioning["order"]["status"] == "provisioning"
    await gateway.settle()
    order = (await gateway.execute(sales, ORDER, {"id": oid}))["order"]
    assert order["status"] == "active" and order["billingStartedAt"] is not None
    assert order["org"] is None  # R-ORD-4: after a CUSTOMER handover the partner does not see the org
    assert ("CUSTOMER_ADMIN_WELCOME", "CUSTOMER_ADMINS", ["it@nordlys.example"]) in await _mail(gateway, oid)
    statuses = [(e["fromStatus"], e["toStatus"]) for e in await gateway.events(entityType="ORDER", entityId=oid)]
    assert [s for s in statuses if s[0] != s[1]] == [
        (None, "placed"), ("placed", "awaiting_setup"), ("awaiting_setup", "set_up"), ("set_up", "provisioning"),
        ("provisioning", "active")]
    # The link ends with the setup (R-NOT-6): its holder sees the order no more.
    assert (await gateway.execute(customer, ORDERS, {}))["orders"]["totalCount"] == 0


@pytest.mark.own_gateway
async def test_r_ord_1_who_may_place_and_see_orders(gateway: Gateway, demo: Demo) -> None:
    """R-ORD-1 / R-TRI-2: resale only, a sub-partner's through its parent (ORDER_VIA_PARENT), bad input writes
    nothing; R-ORD-8 / R-ORG-6: another tenant's order is a missing one, a sales_admin sees its own only."""
    parent = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin")
    wholesale = gateway.token(demo.partner, "full_admin")
    sub = gateway.token(DEMO_RESALE_SUB_PARTNER_ID, "full_admin")
    # The demo shows Fjord Cloud Resale's orders at every step, and one placed for its reseller.
    shown = (await gateway.execute(parent, ORDERS_STATUSES, {}))["orders"]
    assert {e["node"]["status"] for e in shown["edges"]} == {
        "placed", "awaiting_setup", "set_up", "active", "error"}
    before = shown["totalCount"]
    sub_before = (await gateway.execute(sub, ORDERS, {}))["orders"]["totalCount"]
    assert sub_before == 1
    today = NOW.date().isoformat()
    for token, code in ((wholesale, "ROUTE_TO_MARKET_MISMATCH"), (sub, "ORDER_VIA_PARENT")):
        async with gateway.writes_nothing():
            refused = (await gateway.execute(token, CREATE, {"input": _order_input()}))["createOrder"]
        assert [e["code"] for e in refused["errors"]] == [code]
    forbidden = await gateway.errors(gateway.token(DEMO_RESALE_PARTNER_ID, "read_only_admin"), CREATE,
                                     {"input": _order_input()})
    assert forbidden[0]["extensions"]["code"] == "FORBIDDEN"
    async with gateway.writes_nothing():
        bad = (await gateway.execute(parent, CREATE, {"input": _order_input(
            lines=[{"service": "DEVICES", "quantity": 1}], requestedStartDate="2026-11-21",
            provisioningContactEmail="nope")}))["createOrder"]
    assert [(e["code"], e["field"]) for e in bad["errors"]] == [
        ("VALIDATION_FAILED", ["input", "lines", "0", "service"]),
        ("REQUESTED_START_DATE_INVALID", ["input", "requestedStartDate"]),
        ("INVALID_EMAIL", ["input", "provisioningContactEmail"])]
    # A sub-partner's order placed by its parent: owned by the sub-partner; due today, so awaiting setup at once.
    for_sub = (await gateway.execute(parent, CREATE, {"input": _order_input(requestedStartDate=today),
                                                      "for": DEMO_RESALE_SUB_PARTNER_ID}))["createOrder"]["order"]
    assert for_sub["status"] == "awaiting_setup"
    own = (await gateway.execute(parent, CREATE, {"input": _order_input()}))["createOrder"]["order"]
    # R-ORG-3: the parent's default list is its own; the sub-partner's appear when asked for.
    listed = (await gateway.execute(parent, ORDERS, {}))["orders"]
    assert listed["totalCount"] == before + 1 and listed["edges"][0]["node"]["id"] == own["id"]
    with_subs = (await gateway.execute(parent, ORDERS, {"filter": {"includeSubPartners": True}}))["orders"]
    assert with_subs["totalCount"] == before + 1 + sub_before + 1
    assert (await gateway.execute(sub, ORDERS, {}))["orders"]["totalCount"] == sub_before + 1
    # R-ORG-6: another tenant reads null; a sales_admin sees only what it created.
    assert (await gateway.execute(wholesale, ORDER, {"id": own["id"]}))["order"] is None
    other_sales = gateway.token(DEMO_RESALE_PARTNER_ID, "sales_admin", subject="someone-else@fjord.example")
    assert (await gateway.execute(other_sales, ORDER, {"id": own["id"]}))["order"] is None
    assert (await gateway.execute(other_sales, ORDERS, {}))["orders"]["totalCount"] == 0
    refused = (await gateway.execute(other_sales, RESEND, {"id": own["id"]}))["resendOrderSetupEmail"]
    assert [e["code"] for e in refused["errors"]] == ["NOT_FOUND"]


@pytest.mark.own_gateway
async def test_r_ord_6_two_racing_wizards_one_subdomain_exactly_one_wins(gateway: Gateway, demo: Demo) -> None:
    """R-ORD-6: completion claims the subdomain through a unique index; the loser gets SUBDOMAIN_TAKEN and keeps
    nothing (R-ORD-5)."""
    parent = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin")
    ids = []
    for _ in range(2):
        created = await gateway.execute(parent, CREATE, {"input": _order_input(
            requestedStartDate=NOW.date().isoformat(), lines=[{"service": "MESSAGING", "quantity": 5}])})
        ids.append(created["createOrder"]["order"]["id"])
    results = await asyncio.gather(*(gateway.execute(parent, COMPLETE, {"id": oid, "input": _setup(
        customerAdminEmail=f"admin{i}@race.example", callingLocation=None)}) for i, oid in enumerate(ids)))
    outcomes = sorted(tuple(e["code"] for e in r["completeOrderSetup"]["errors"]) for r in results)
    assert outcomes == [(), ("SUBDOMAIN_TAKEN",)]
    statuses = sorted([(await gateway.execute(parent, ORDER, {"id": oid}))["order"]["status"] for oid in ids])
    assert statuses == ["awaiting_setup", "set_up"]


START_TRIAL = """mutation($input: StartTrialInput!) {
  startTrial(input: $input) { trial { id status } errors { code } } }"""
CONVERT = _op("""mutation($id: ID!, $order: CreateOrderInput!) {
  convertTrial(id: $id, order: $order) { order { {ORDER} trial { id status } } errors { code field } } }""")
TRIAL = "query($id: ID!) { trial(id: $id) { status conversionOrder { id } } }"


@pytest.mark.own_gateway
async def test_r_tri_10_a_trial_converts_to_an_order_on_its_org(gateway: Gateway, demo: Demo) -> None:
    """R-TRI-10: an active trial becomes an order linked to it in one transaction (trial `converted`); the start date
    is bounded by the grace end; the setup names a trial-org admin (CONVERSION_EMAIL_MISMATCH) and keeps its org."""
    parent = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin")
    started = (await gateway.execute(parent, START_TRIAL, {"input": {
        "companyName": "Polar Fisk AS", "adminEmail": "boss@polarfisk.example", "industry": "retail",
        "country": "NO", "services": ["MESSAGING"]}}))["startTrial"]
    assert started["errors"] == []
    tid = started["trial"]["id"]
    await gateway.settle()
    assert (await gateway.execute(parent, TRIAL, {"id": tid}))["trial"]["status"] == "active"
    order = {"offer": "A_WX", "lines": [{"service": "MESSAGING", "quantity": 12}],
             "requestedStartDate": NOW.date().isoformat(), "provisioningContactEmail": "boss@polarfisk.example"}
    async with gateway.writes_nothing():
        late = (await gateway.execute(parent, CONVERT, {"id": tid, "order": {
            **order, "requestedStartDate": (NOW.date() + timedelta(days=90)).isoformat()}}))["convertTrial"]
    assert [(e["code"], e["field"]) for e in late["errors"]] == [
        ("REQUESTED_START_DATE_INVALID", ["order", "requestedStartDate"])]
    converted = (await gateway.execute(parent, CONVERT, {"id": tid, "order": order}))["convertTrial"]
    assert converted["errors"] == [], converted
    placed = converted["order"]
    assert placed["status"] == "awaiting_setup" and placed["trial"] == {"id": tid, "status": "converted"}
    assert (await gateway.execute(parent, TRIAL, {"id": tid}))["trial"]["conversionOrder"] == {"id": placed["id"]}
    again = (await gateway.execute(parent, CONVERT, {"id": tid, "order": order}))["convertTrial"]
    assert [e["code"] for e in again["errors"]] == ["INVALID_STATE"]
    setup = {"partnerOrgConfirmed": True, "customerAdminEmail": "someone@else.example"}
    mismatch = (await gateway.execute(parent, COMPLETE, {"id": placed["id"], "input": setup}))["completeOrderSetup"]
    assert [e["code"] for e in mismatch["errors"]] == ["CONVERSION_EMAIL_MISMATCH"]
    done = (await gateway.execute(parent, COMPLETE, {"id": placed["id"], "input": {
        **setup, "customerAdminEmail": "Boss@PolarFisk.example"}}))["completeOrderSetup"]
    assert done["errors"] == [] and done["order"]["org"]["name"] == "Polar Fisk AS"
    await gateway.execute(parent, PROVISION, {"id": placed["id"]})
    await gateway.settle()
    active = (await gateway.execute(parent, ORDER, {"id": placed["id"]}))["order"]
    assert active["status"] == "active" and active["org"]["partnerAccess"] == "FULL_ADMIN"
