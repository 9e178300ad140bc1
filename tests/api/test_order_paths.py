"""Orders (DOMAIN.md §12) off the main road: the hand-over to a colleague (R-ORD-4), converting a trial with
MEETINGS (R-TRI-10's site rules) and a provisioning that fails (R-ORD-7). The helpers are tests/api/test_orders.py's."""

from __future__ import annotations

from typing import Any

import pytest

from domain.services import customer_orgs
from domain.store.repositories import Tx
from gateway.demo import DEMO_RESALE_PARTNER_ID, DEMO_RESALE_SUB_PARTNER_ID
from tests.api.test_orders import (
    COMPLETE,
    CONVERT,
    CREATE,
    HANDOVER,
    ORDERS,
    PROVISION,
    START_TRIAL,
    _link,
    _mail,
    _op,
    _order_input,
    _setup,
)
from tests.conftest import NOW, Demo, Gateway

TODAY = NOW.date().isoformat()
SITE_ORDER = _op("query($id: ID!) { order(id: $id) { {ORDER} meetingsSiteUrl errors { code } "
                 "org { meetingsSiteUrl } } }")
AVAILABLE = """query($name: String!, $kind: SubdomainKind) {
  subdomainAvailability(subdomain: $name, kind: $kind) { available reason } }"""
WAITING = """{ orders(filter: {status: [awaiting_setup]}, first: 100) { edges { node { id setupBy } } } }"""
TRIALS = """query($name: String!) { trials(filter: {companyNameContains: $name}) {
  edges { node { id status meetingsSiteUrl } } } }"""


async def _available(gateway: Gateway, token: str, name: str, kind: str) -> tuple[bool, str | None]:
    found = (await gateway.execute(token, AVAILABLE, {"name": name, "kind": kind}))["subdomainAvailability"]
    return found["available"], found["reason"]


@pytest.mark.own_gateway
async def test_r_ord_4_hand_over_to_a_colleague_then_the_customer(gateway: Gateway, demo: Demo) -> None:
    """R-ORD-4: PARTNER is no hand-over target (VALIDATION_FAILED, nothing written); a colleague gets a new link and
    the old one is revoked (R-NOT-6); while setupBy is PARTNER_COLLEAGUE the owner's full_admin still runs the wizard;
    the colleague may hand over further to the CUSTOMER, whose link then replaces the colleague's."""
    admin = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin")
    order = (await gateway.execute(admin, CREATE, {"input": _order_input(requestedStartDate=TODAY)}))["createOrder"]
    oid = order["order"]["id"]
    assert order["order"]["status"] == "awaiting_setup"
    contact = await _link(gateway, oid)
    async with gateway.writes_nothing():
        refused = (await gateway.execute(contact, HANDOVER, {"id": oid, "to": "PARTNER", "email": "x@fjord.example"}))
    assert [(e["code"], e["field"]) for e in refused["handOverOrderSetup"]["errors"]] == [
        ("VALIDATION_FAILED", ["to"])]
    handed = (await gateway.execute(contact, HANDOVER, {"id": oid, "to": "PARTNER_COLLEAGUE",
                                                        "email": "Kari@Fjord.example"}))["handOverOrderSetup"]
    assert handed["errors"] == []
    assert (handed["order"]["setupBy"], handed["order"]["status"]) == ("PARTNER_COLLEAGUE", "awaiting_setup")
    assert ("ORDER_SETUP", "PROVISIONING_CONTACT", ["kari@fjord.example"]) in await _mail(gateway, oid)
    async with gateway.writes_nothing():
        stale = await gateway.errors(contact, HANDOVER, {"id": oid, "to": "CUSTOMER", "email": "it@nordlys.example"})
    assert [e["extensions"]["code"] for e in stale] == ["UNAUTHENTICATED"]
    colleague = await _link(gateway, oid)
    assert (await gateway.execute(colleague, ORDERS, {}))["orders"]["edges"] == [{"node": {"id": oid,
                                                                                           "status": "awaiting_setup"}}]
    # The owner's full_admin runs the wizard of a colleague's order (the demo's Skagen Surf) to its end.
    waiting = (await gateway.execute(admin, WAITING, {}))["orders"]["edges"]
    surf = next(e["node"]["id"] for e in waiting
                if e["node"]["setupBy"] == "PARTNER_COLLEAGUE" and e["node"]["id"] != oid)
    done = (await gateway.execute(admin, COMPLETE, {"id": surf, "input": _setup(
        customerAdminEmail="it@skagen-surf.example", newOrg={"name": "Skagen Surf", "country": "NO"},
        subdomain="skagen-surf", callingLocation=None)}))["completeOrderSetup"]
    assert done["errors"] == [] and done["order"]["status"] == "set_up"
    # A further hand-over, by the colleague, to the customer: it ends the colleague's link and the partner's wizard.
    customer = (await gateway.execute(colleague, HANDOVER, {"id": oid, "to": "CUSTOMER",
                                                            "email": "it@nordlys.example"}))["handOverOrderSetup"]
    assert customer["errors"] == [] and customer["order"]["setupBy"] == "CUSTOMER"
    assert (await gateway.execute(colleague, ORDERS, {}))["orders"]["totalCount"] == 0
    refused = (await gateway.execute(admin, COMPLETE, {"id": oid, "input": _setup()}))["completeOrderSetup"]
    assert [e["code"] for e in refused["errors"]] == ["INVALID_STATE"]
    assert (await gateway.execute(await _link(gateway, oid), ORDERS, {}))["orders"]["edges"][0]["node"]["id"] == oid


def _conversion(offer: str, site: str | None) -> dict[str, Any]:
    return {"offer": offer, "lines": [{"service": "MEETINGS", "quantity": 10}], "requestedStartDate": TODAY,
            "provisioningContactEmail": "sales@fjord-cloud.example", "meetingsSiteUrl": site}


@pytest.mark.own_gateway
async def test_r_tri_10_meetings_conversions_keep_or_make_a_site(gateway: Gateway, demo: Demo) -> None:
    """R-TRI-10 with MEETINGS: A_SPK must name the trial's site (else SITE_URL_MISMATCH, nothing written) and keeps
    it through provisioning; A_WX naming the trial's site is SITE_URL_TAKEN (nothing written); A_WX with a free name
    claims it at once (R-ORD-6: subdomainAvailability says taken)."""
    admin = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin")
    started = (await gateway.execute(admin, START_TRIAL, {"input": {
        "companyName": "Polar Møte AS", "adminEmail": "boss@polarmote.example", "industry": "retail",
        "country": "NO", "services": ["MEETINGS"],
        "meetings": {"siteUrl": "polar-mote", "timezone": "Europe/Oslo"}}}))["startTrial"]
    assert started["errors"] == []
    polar = started["trial"]["id"]
    await gateway.settle()
    # The demo's Nordlys Bakeri trial: active, MEETINGS on nordlys-bakeri.webex.com.
    nordlys = (await gateway.execute(admin, TRIALS, {"name": "Nordlys"}))["trials"]["edges"][0]["node"]
    assert (nordlys["status"], nordlys["meetingsSiteUrl"]) == ("active", "nordlys-bakeri.webex.com")
    for tid, offer, site, code in ((nordlys["id"], "A_SPK", "polar-other", "SITE_URL_MISMATCH"),
                                   (polar, "A_WX", "polar-mote.webex.com", "SITE_URL_TAKEN")):
        async with gateway.writes_nothing():
            refused = (await gateway.execute(admin, CONVERT, {"id": tid, "order": _conversion(offer, site)}))
        assert [(e["code"], e["field"]) for e in refused["convertTrial"]["errors"]] == [
            (code, ["order", "meetingsSiteUrl"])]
    assert await _available(gateway, admin, "polar-nytt", "MEETINGS_SITE") == (True, None)
    made = (await gateway.execute(admin, CONVERT, {"id": polar, "order": _conversion("A_WX", "Polar-Nytt")}))
    assert made["convertTrial"]["errors"] == []
    new_site = (await gateway.execute(admin, SITE_ORDER, {"id": made["convertTrial"]["order"]["id"]}))["order"]
    assert new_site["meetingsSiteUrl"] == "polar-nytt.webex.com"
    assert await _available(gateway, admin, "polar-nytt", "MEETINGS_SITE") == (False, "SITE_URL_TAKEN")
    assert await _available(gateway, admin, "polar-mote", "MEETINGS_SITE") == (False, "SITE_URL_TAKEN")
    # A_SPK names the trial's site: the order keeps it, and so does the org once provisioned.
    kept = (await gateway.execute(admin, CONVERT, {"id": nordlys["id"], "order": _conversion(
        "A_SPK", "nordlys-bakeri.webex.com")}))["convertTrial"]
    assert kept["errors"] == []
    oid = kept["order"]["id"]
    done = (await gateway.execute(admin, COMPLETE, {"id": oid, "input": {
        "partnerOrgConfirmed": True, "customerAdminEmail": "ola@nordlys-bakeri.example"}}))["completeOrderSetup"]
    assert done["errors"] == []
    await gateway.execute(admin, PROVISION, {"id": oid})
    await gateway.settle()
    active = (await gateway.execute(admin, SITE_ORDER, {"id": oid}))["order"]
    assert (active["status"], active["meetingsSiteUrl"]) == ("active", "nordlys-bakeri.webex.com")
    assert active["org"]["meetingsSiteUrl"] == "nordlys-bakeri.webex.com"


@pytest.mark.own_gateway
async def test_r_ord_7_failed_provisioning_bills_nothing_and_frees_the_names(gateway: Gateway, demo: Demo) -> None:
    """R-ORD-7: provisioning fails when the customer admin joined another org meanwhile (as the demo's Kiruna
    Mining): `error` with the cause, nothing billed, no welcome; the subdomain and site the setup claimed (R-ORD-6)
    are free again."""
    admin = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin")
    placed = (await gateway.execute(admin, CREATE, {"input": _order_input(
        requestedStartDate=TODAY, lines=[{"service": "MEETINGS", "quantity": 30}])}))["createOrder"]
    oid = placed["order"]["id"]
    done = (await gateway.execute(admin, COMPLETE, {"id": oid, "input": _setup(
        customerAdminEmail="it@kiruna-nord.example", newOrg={"name": "Kiruna Nord", "country": "NO"},
        subdomain="kiruna-nord", callingLocation=None,
        meetings={"siteUrl": "kiruna-nord-mote.webex.com", "timezone": "Europe/Oslo"})}))["completeOrderSetup"]
    assert done["errors"] == [] and done["order"]["status"] == "set_up"
    names = (("kiruna-nord", "ENTERPRISE", "SUBDOMAIN_TAKEN"), ("kiruna-nord-mote", "MEETINGS_SITE", "SITE_URL_TAKEN"))
    for name, kind, code in names:
        assert await _available(gateway, admin, name, kind) == (False, code)

    async def elsewhere(tx: Tx) -> None:  # the admin joins another org before provisioning, as in the demo
        await customer_orgs.create_org(gateway.repos, tx, customer_orgs.NewCustomerOrg(
            name="Kiruna Nord (own)", country="SE", admin_email="it@kiruna-nord.example",
            partner_id=DEMO_RESALE_SUB_PARTNER_ID))

    await gateway.repos.atomic(elsewhere)
    assert (await gateway.execute(admin, PROVISION, {"id": oid}))["provisionOrder"]["errors"] == []
    await gateway.settle()
    failed = (await gateway.execute(admin, SITE_ORDER, {"id": oid}))["order"]
    assert (failed["status"], failed["billingStartedAt"], failed["org"]) == ("error", None, None)
    assert [e["code"] for e in failed["errors"]] == ["EMAIL_IN_USE"]
    assert [k for k, _, _ in await _mail(gateway, oid)] == ["ORDER_SETUP"]
    statuses = [(e["fromStatus"], e["toStatus"]) for e in await gateway.events(entityType="ORDER", entityId=oid)]
    assert statuses[-2:] == [("set_up", "provisioning"), ("provisioning", "error")]
    for name, kind, _ in names:
        assert await _available(gateway, admin, name, kind) == (True, None)
