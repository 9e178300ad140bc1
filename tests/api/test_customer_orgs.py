"""The directory of resale customer orgs (DOMAIN.md §10, §12): `orgLookup` (R-TRI-4), `subdomainAvailability` and
name claims (R-ORD-6), and the simulated Webex side trials and orders change orgs through (R-TRI-6, R-TRI-11).

The demo (gateway/demo_extras/customer_orgs.py) holds Nordlys Design (managed by Fjord), Bergen Bikes (managed by
Lagoon IT Reseller, which trials CALLING there) and Tromsø Analytics (paid, unmanaged).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from domain.model.customer_orgs import CustomerOrg, CustomerOrgStatus, ResaleService, SubdomainKind
from domain.model.entities import PartnerAccess
from domain.model.errors import DomainError, ErrorCode
from domain.services import customer_orgs
from domain.services.customer_orgs import NewCustomerOrg
from domain.store.repositories import Repositories, Tx
from gateway.demo import DEMO_PARTNER_ID, DEMO_RESALE_PARTNER_ID, DEMO_RESALE_SUB_PARTNER_ID
from tests.conftest import Demo, Gateway

ORG = "id name country dataRegion subdomain meetingsSiteUrl purchasedServices partnerAccess"
LOOKUP = f"query($e: String!) {{ orgLookup(adminEmail: $e) {{ org {{ {ORG} }} managedBy trialable }} }}"
AVAILABLE = """query($s: String!, $k: SubdomainKind) {
  subdomainAvailability(subdomain: $s, kind: $k) { subdomain available reason } }"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on CustomerOrg {{ {ORG} }} }} }}"
ALL = ["MESSAGING", "MEETINGS", "CALLING", "DEVICES"]


async def _lookup(gateway: Gateway, token: str, email: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gateway.execute(token, LOOKUP, {"e": email}))["orgLookup"]
    return found


async def _available(gateway: Gateway, token: str, name: str, kind: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = (await gateway.execute(token, AVAILABLE, {"s": name, "k": kind}))["subdomainAvailability"]
    return found


@pytest.mark.read_only
async def test_r_tri_4_org_lookup_by_exact_admin_email(gateway: Gateway, demo: Demo) -> None:
    """R-TRI-4: the org, its managing partners and the trialable services (not bought, not trialled by another
    partner), by exact (case-insensitive) email, for trials_write holders only; `partnerAccess` is the caller's."""
    fjord = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin")
    sales = gateway.token(DEMO_RESALE_PARTNER_ID, "sales_admin")
    bikes = await _lookup(gateway, sales, "  Owner@Bergen-Bikes.example ")
    assert bikes["org"] | {"id": None} == {
        "id": None, "name": "Bergen Bikes", "country": "NO", "dataRegion": "EU", "subdomain": "bergen-bikes",
        "meetingsSiteUrl": None, "purchasedServices": [], "partnerAccess": "NONE"}
    assert bikes["managedBy"] == ["Lagoon IT Reseller"] and bikes["trialable"] == ["MESSAGING", "MEETINGS", "DEVICES"]
    assert (await _lookup(gateway, fjord, "mechanic@bergen-bikes.example"))["org"]["id"] == bikes["org"]["id"]
    lagoon = gateway.token(DEMO_RESALE_SUB_PARTNER_ID, "full_admin")
    as_lagoon = await _lookup(gateway, lagoon, "owner@bergen-bikes.example")
    assert as_lagoon["org"]["partnerAccess"] == "PROVISIONING_ADMIN"
    nordlys = await _lookup(gateway, fjord, "it@nordlys-design.example")
    assert nordlys["org"]["partnerAccess"] == "FULL_ADMIN" and nordlys["managedBy"] == ["Fjord Cloud Resale"]
    assert nordlys["trialable"] == ALL
    paid = await _lookup(gateway, fjord, "cio@tromso-analytics.example")
    assert paid["org"]["purchasedServices"] == ["MESSAGING", "MEETINGS"] and paid["managedBy"] == []
    assert paid["org"]["meetingsSiteUrl"] == "tromso-analytics.webex.com" and paid["org"]["dataRegion"] == "EU"
    assert paid["trialable"] == ["CALLING", "DEVICES"]
    # Exact match only: a near miss is a new org.
    for near in ("owner@bergen-bikes.exampl", "wner@bergen-bikes.example"):
        assert await _lookup(gateway, fjord, near) == {"org": None, "managedBy": [], "trialable": ALL}
    # A wholesale customer's org is found read-only: nothing to trial (ORG_NOT_ELIGIBLE is the trials' refusal).
    wholesale = (await gateway.repos.customers.db.find("customers", {"ownerOrgId": DEMO_PARTNER_ID}, limit=1))[0]
    found = await _lookup(gateway, fjord, wholesale["primaryEmail"].upper())
    assert found["org"]["name"] == wholesale["name"] and found["trialable"] == [] and found["managedBy"] == []
    directory = await _lookup(gateway, fjord, "counter@lakeside-bakery.example")  # a user of an R-ATT directory org
    assert directory["org"]["name"] == "Lakeside Bakery" and directory["trialable"] == []
    # node(id): only while the caller's access is not NONE (R-ORG-6).
    assert (await gateway.execute(fjord, NODE, {"id": nordlys["org"]["id"]}))["node"] == nordlys["org"]
    assert (await gateway.execute(fjord, NODE, {"id": bikes["org"]["id"]}))["node"] is None
    assert (await gateway.execute(lagoon, NODE, {"id": bikes["org"]["id"]}))["node"]["name"] == "Bergen Bikes"
    # Who may ask: not a read-only admin, a wholesale partner or the platform; a malformed address is refused.
    for token in (gateway.token(DEMO_RESALE_PARTNER_ID, "read_only_admin"), gateway.token(DEMO_PARTNER_ID),
                  gateway.token(None, "platform_admin")):
        assert [e["extensions"]["code"] for e in await gateway.errors(token, LOOKUP, {"e": "it@nordlys-design.example"})
                ] == ["FORBIDDEN"]
    bad = await gateway.errors(fjord, LOOKUP, {"e": "not-an-email"})
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in bad] == [("VALIDATION_FAILED", ["adminEmail"])]


@pytest.mark.read_only
async def test_r_ord_6_subdomain_availability(gateway: Gateway, demo: Demo) -> None:
    """R-ORD-6: syntax (lower-cased), stored orgs' names, reserved names; site names are their own namespace."""
    token = gateway.token(DEMO_RESALE_PARTNER_ID, "sales_admin")
    assert await _available(gateway, token, " Fresh-Name ") == {"subdomain": "fresh-name", "available": True,
                                                                 "reason": None}
    assert await _available(gateway, token, "Nordlys-Design") == {"subdomain": "nordlys-design", "available": False,
                                                                   "reason": "SUBDOMAIN_TAKEN"}
    assert (await _available(gateway, token, "www"))["reason"] == "SUBDOMAIN_TAKEN"
    for bad in ("ab", "-acme", "acme-", "ac_me", "x" * 64):
        assert (await _available(gateway, token, bad))["reason"] == "SUBDOMAIN_INVALID"
    assert (await _available(gateway, token, "nordlys-design", "MEETINGS_SITE"))["available"] is True
    taken = await _available(gateway, token, "Tromso-Analytics.webex.com", "MEETINGS_SITE")
    assert taken == {"subdomain": "tromso-analytics", "available": False, "reason": "SITE_URL_TAKEN"}
    assert [e["extensions"]["code"] for e in await gateway.errors(
        gateway.token(DEMO_RESALE_PARTNER_ID, "read_only_admin"), AVAILABLE, {"s": "acme"})] == ["FORBIDDEN"]


async def _create(repos: Repositories, new: NewCustomerOrg) -> CustomerOrg:
    async def write(tx: Tx) -> CustomerOrg:
        return await customer_orgs.create_org(repos, tx, new)

    return await repos.atomic(write)


async def test_r_ord_6_racing_claims_and_r_tri_11_purge(gateway: Gateway, demo: Demo) -> None:
    """R-ORD-6: two wizards claiming one name at once → exactly one wins (the unique claim, not a prior read);
    a user belongs to one org only; R-TRI-11: a trial-created org with nothing bought is purged (names and users
    freed), in another org only the trial's services and the access it gave end."""
    token = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin")
    db, clock = gateway.repos.db, gateway.repos.clock
    wizards = [Repositories.over(db, clock) for _ in range(2)]  # two processes: no shared commit lock

    first_reads: list[str | None] = []

    async def wizard(repos: Repositories, holder: str) -> str:
        async def write(tx: Tx) -> str:
            first_reads.append(await repos.name_claims.holder(SubdomainKind.ENTERPRISE, "race-co",
                                                              session=tx.session))
            await asyncio.sleep(0.05)  # both have seen the name free before either claims it
            return await customer_orgs.claim_subdomain(repos, tx, "Race-Co", holder)
        try:
            return await repos.atomic(write)
        except DomainError as e:
            return e.errors[0].code.value

    results = await asyncio.gather(wizard(wizards[0], "ord_a"), wizard(wizards[1], "ord_b"))
    assert sorted(results) == ["SUBDOMAIN_TAKEN", "race-co"]
    assert first_reads[:2] == [None, None]  # the loser lost at the claim, not at a read
    assert (await _available(gateway, token, "race-co"))["reason"] == "SUBDOMAIN_TAKEN"
    winner = "ord_a" if results[0] == "race-co" else "ord_b"

    repos = gateway.repos
    trial_org = await _create(repos, NewCustomerOrg(
        name="Race Co", country="de", admin_email="Boss@Race-Co.example", partner_id=DEMO_RESALE_PARTNER_ID,
        subdomain="race-co", site="race-co", claim_holder=winner, trial_services=(ResaleService.MEETINGS,),
        trial_id="trl_1"))
    assert (trial_org.subdomain, trial_org.meetings_site_url, trial_org.data_region) == (
        "race-co", "race-co.webex.com", "EU")
    async with gateway.writes_nothing("a second org for one admin"):
        with pytest.raises(DomainError) as refused:
            await _create(repos, NewCustomerOrg(name="Other", country="DE", admin_email="boss@race-co.example",
                                                partner_id=DEMO_RESALE_PARTNER_ID, subdomain="other-co"))
    assert refused.value.errors[0].code is ErrorCode.EMAIL_IN_USE
    assert (await _available(gateway, token, "other-co"))["available"] is True

    async def end(tx: Tx) -> CustomerOrg:
        return await customer_orgs.end_trial(repos, tx, trial_org.id, DEMO_RESALE_PARTNER_ID, "trl_1")

    purged = await repos.atomic(end)
    assert purged.status is CustomerOrgStatus.PURGED and purged.version == 2 and not purged.admins
    assert (await _lookup(gateway, token, "boss@race-co.example"))["org"] is None
    assert (await _available(gateway, token, "race-co"))["available"] is True
    assert (await _available(gateway, token, "race-co", "MEETINGS_SITE"))["available"] is True

    # An existing, paid org: the trial adds services and access, and its end takes back only those.
    paid = await _create(repos, NewCustomerOrg(name="Boss Again", country="US", admin_email="boss@race-co.example",
                                               partner_id=DEMO_PARTNER_ID, purchased=(ResaleService.MESSAGING,)))

    async def trial(tx: Tx) -> CustomerOrg:
        await customer_orgs.set_partner_access(repos, tx, paid.id, DEMO_RESALE_PARTNER_ID,
                                               PartnerAccess.PROVISIONING_ADMIN, via_trial=True)
        return await customer_orgs.add_services(repos, tx, paid.id, DEMO_RESALE_PARTNER_ID, [ResaleService.CALLING],
                                                purchased=False)

    trialled = await repos.atomic(trial)
    found = await _lookup(gateway, token, "boss@race-co.example")
    assert found["org"]["partnerAccess"] == "PROVISIONING_ADMIN" and "CALLING" in found["trialable"]
    assert trialled.trialled_by_others(DEMO_PARTNER_ID) == {ResaleService.CALLING}

    async def end_paid(tx: Tx) -> CustomerOrg:
        return await customer_orgs.end_trial(repos, tx, paid.id, DEMO_RESALE_PARTNER_ID, "trl_2")

    kept = await repos.atomic(end_paid)
    assert kept.status is CustomerOrgStatus.ACTIVE and kept.purchased_services == (ResaleService.MESSAGING,)
    assert kept.access_of(DEMO_RESALE_PARTNER_ID) is PartnerAccess.NONE and kept.access_of(DEMO_PARTNER_ID) is (
        PartnerAccess.FULL_ADMIN)
    assert kept.version == trialled.version + 1
