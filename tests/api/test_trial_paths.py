"""Trials (DOMAIN.md §10) on the paths test_trials.py leaves out: a suspended sub-partner (R-TRI-2, R-ORG-5), a
device trial's extension request left pending until the grace ends (R-TRI-8), and who receives which trial events
(R-TRI-2 visibility, R-ORG-2/3/6, the sales_admin limit)."""

from __future__ import annotations

from typing import Any

import pytest

from domain.rules.tenancy import OWNER, CreatorReach
from gateway.demo import DEMO_RESALE_PARTNER_ID, DEMO_RESALE_SUB_PARTNER_ID
from tests.api.test_trials import DAY, DECIDE, TRIAL, TRIALS, _at, _input, _start, _trial
from tests.conftest import NOW, Demo, Gateway

START = """mutation($input: StartTrialInput!, $for: ID) {
  startTrial(input: $input, onBehalfOfSubPartnerOrgId: $for) { trial { id } errors { code field } } }"""
EXTEND = """mutation($id: ID!, $for: ID) {
  extendTrial(id: $id, onBehalfOfSubPartnerOrgId: $for) { trial { id extensionRequest endsAt status }
    errors { code field } } }"""
SERVICES_FOR = """mutation($id: ID!, $input: TrialServicesInput!, $for: ID) {
  updateTrialServices(id: $id, input: $input, onBehalfOfSubPartnerOrgId: $for) {
    trial { id } errors { code field } } }"""
DELETE = """mutation($id: ID!, $for: ID) {
  deleteTrial(id: $id, onBehalfOfSubPartnerOrgId: $for) { trial { id status } errors { code field } } }"""
SUSPEND = """mutation($id: ID!) { setSubPartnerState(id: $id, state: suspended) { errors { code } } }"""
CREATE_SUB = """mutation($parent: ID!, $input: CreateSubPartnerInput!) {
  createSubPartner(parentId: $parent, input: $input) { partner { id } errors { code } } }"""
EVENTS = """query($filter: EventFilter) { eventsHead provisioningEvents(filter: $filter, first: 100) {
  totalCount edges { node { entityId toStatus trial { id createdBy } } } } }"""


def _codes(payload: dict[str, Any]) -> list[tuple[str, list[str] | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


@pytest.mark.settled_demo
async def test_r_tri_2_r_org_5_a_suspended_sub_partner_may_only_delete_and_read(gateway: Gateway, demo: Demo) -> None:
    """R-TRI-2, R-ORG-5: once suspended, no start, services change or extension by the sub-partner or by its parent
    on its behalf (SUB_PARTNER_SUSPENDED, nothing written); its trials still read, and it may delete them."""
    lagoon = gateway.token(DEMO_RESALE_SUB_PARTNER_ID, "full_admin")
    fjord = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin")
    tid = (await _start(gateway, lagoon, _input("Skog Sport", "it@skog.example")))["id"]
    await gateway.settle()
    assert (await _trial(gateway, lagoon, tid))["status"] == "active"
    platform = gateway.token(None, "platform_admin")
    suspended = await gateway.execute(platform, SUSPEND, {"id": DEMO_RESALE_SUB_PARTNER_ID})
    assert suspended["setSubPartnerState"]["errors"] == []

    services = {"services": ["MESSAGING", "CALLING"]}
    on_behalf = ["onBehalfOfSubPartnerOrgId"]
    async with gateway.writes_nothing():
        for token, who, field in ((lagoon, None, None), (fjord, DEMO_RESALE_SUB_PARTNER_ID, on_behalf)):
            started = await gateway.execute(token, START, {"input": _input("Hav", "it@hav.example"), "for": who})
            extended = await gateway.execute(token, EXTEND, {"id": tid, "for": who})
            changed = await gateway.execute(token, SERVICES_FOR, {"id": tid, "input": services, "for": who})
            for payload in (started["startTrial"], extended["extendTrial"], changed["updateTrialServices"]):
                assert (payload["trial"], _codes(payload)) == (None, [("SUB_PARTNER_SUSPENDED", field)])
    # Reads stay: the trial itself, the list, and the parent's view of it on request.
    seen = await _trial(gateway, lagoon, tid)
    assert (seen["status"], seen["services"], _at(seen["endsAt"])) == ("active", ["MESSAGING"], NOW + 30 * DAY)
    listed = (await gateway.execute(lagoon, TRIALS, {"filter": {"companyNameContains": "skog"}}))["trials"]
    assert [e["node"]["id"] for e in listed["edges"]] == [tid]
    deleted = (await gateway.execute(fjord, DELETE, {"id": tid, "for": DEMO_RESALE_SUB_PARTNER_ID}))["deleteTrial"]
    assert (deleted["errors"], deleted["trial"]["status"]) == ([], "deleted")
    assert (await _trial(gateway, lagoon, tid))["status"] == "deleted"


@pytest.mark.settled_demo
async def test_r_tri_8_a_device_extension_still_pending_at_grace_end_is_void(gateway: Gateway, demo: Demo) -> None:
    """R-TRI-8, R-TRI-11: an unanswered device extension request survives the expiry (still listed as pending) and
    becomes `void` when the grace ends and the trial is purged; deciding it afterwards is INVALID_STATE, nothing
    written, and the partner cannot extend a purged trial."""
    fjord = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin")
    platform = gateway.token(None, "platform_admin")
    tid = (await _start(gateway, fjord, _input("Rein Logistikk", "it@rein.example", "MESSAGING", "DEVICES")))["id"]
    await gateway.settle()
    gateway.clock.advance(DAY)  # on day one, now + 30 days would not be later than the end
    asked = (await gateway.execute(fjord, EXTEND, {"id": tid}))["extendTrial"]
    assert (asked["errors"], asked["trial"]["extensionRequest"]) == ([], "pending"), asked

    gateway.clock.set(NOW + 30 * DAY)  # the end: expired, the request still waits for platform_admin
    await gateway.settle()
    trial = await _trial(gateway, fjord, tid)
    assert (trial["status"], trial["extensionRequest"], _at(trial["graceEndsAt"])) == (
        "expired", "pending", NOW + 60 * DAY)
    waiting = (await gateway.execute(platform, TRIALS, {"filter": {"extensionPending": True}}))["trials"]
    assert tid in [e["node"]["id"] for e in waiting["edges"]]

    gateway.clock.set(NOW + 60 * DAY)  # the grace ends: purged, and the request with it
    await gateway.settle()
    trial = await _trial(gateway, fjord, tid)
    assert (trial["status"], trial["extensionRequest"], trial["org"]) == ("purged", "void", None)
    waiting = (await gateway.execute(platform, TRIALS, {"filter": {"extensionPending": True,
                                                                    "status": ["purged"]}}))["trials"]
    assert tid not in [e["node"]["id"] for e in waiting["edges"]]
    async with gateway.writes_nothing():
        late = (await gateway.execute(platform, DECIDE, {"id": tid, "approve": True}))["decideTrialExtension"]
        again = (await gateway.execute(fjord, EXTEND, {"id": tid}))["extendTrial"]
    assert (late["trial"], [e["code"] for e in late["errors"]]) == (None, ["INVALID_STATE"])
    assert (again["trial"], [e["code"] for e in again["errors"]]) == (None, ["INVALID_STATE"])
    assert (await _trial(gateway, platform, tid))["extensionRequest"] == "void"


async def _events(gateway: Gateway, token: str, **filter: Any) -> tuple[set[str], str]:
    data = await gateway.execute(token, EVENTS, {"filter": {"entityTypes": ["TRIAL"], **filter}})
    edges = data["provisioningEvents"]["edges"]
    assert data["provisioningEvents"]["totalCount"] == len(edges)
    for edge in edges:  # the event's trial is the caller's to see
        assert edge["node"]["trial"] is not None and edge["node"]["trial"]["id"] == edge["node"]["entityId"]
    return {e["node"]["entityId"] for e in edges}, data["eventsHead"]


@pytest.mark.settled_demo
async def test_r_tri_2_trial_events_follow_tenancy_and_the_sales_admin_limit(gateway: Gateway, demo: Demo) -> None:
    """R-TRI-2, R-ORG-2/3/6, R-EVT-2: a resale partner's admins read their org's TRIAL events, a parent its
    sub-partners' only on request, a sub-partner never its parent's or a sibling's; a sales_admin reads the events of
    the trials it created only (its own org, its own `eventsHead`); a reader with neither scope is FORBIDDEN."""
    platform = gateway.token(None, "platform_admin")
    sibling_id = (await gateway.execute(platform, CREATE_SUB, {"parent": DEMO_RESALE_PARTNER_ID, "input": {
        "name": "Skerry Reseller", "adminEmail": "admin@skerry.example"}}))["createSubPartner"]["partner"]["id"]
    fjord = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin")
    reader = gateway.token(DEMO_RESALE_PARTNER_ID, "read_only_admin")
    sam = gateway.token(DEMO_RESALE_PARTNER_ID, "sales_admin", subject="sam@fjord.example")
    sue = gateway.token(DEMO_RESALE_PARTNER_ID, "sales_admin", subject="sue@fjord.example")
    lagoon = gateway.token(DEMO_RESALE_SUB_PARTNER_ID, "full_admin")
    sibling = gateway.token(sibling_id, "full_admin")
    lagoon_sales = gateway.token(DEMO_RESALE_SUB_PARTNER_ID, "sales_admin", subject="sam@fjord.example")
    before = {name: await _events(gateway, token) for name, token in (("fjord", fjord), ("sam", sam), ("sue", sue))}
    ids = {name: (await _start(gateway, token, _input(f"Event {name}", f"it@{name}.example")))["id"]
           for name, token in (("sam", sam), ("sue", sue), ("fjord", fjord), ("lagoon", lagoon),
                               ("sibling", sibling))}
    await gateway.settle()  # each trial has its start and its activation
    own = {ids["sam"], ids["sue"], ids["fjord"]}
    assert (await _events(gateway, fjord))[0] - before["fjord"][0] == own  # R-ORG-3: not the sub-partners'
    assert (await _events(gateway, reader))[0] - before["fjord"][0] == own
    everything = (await _events(gateway, fjord, includeSubPartners=True))[0]
    assert {ids["lagoon"], ids["sibling"]} | own <= everything
    assert (await _events(gateway, fjord, subPartnerOrgId=sibling_id))[0] == {ids["sibling"]}
    assert (await _events(gateway, lagoon))[0] & set(ids.values()) == {ids["lagoon"]}  # R-ORG-2: no parent, sibling
    assert (await _events(gateway, sibling))[0] == {ids["sibling"]}
    assert (await _events(gateway, lagoon, subPartnerOrgId=sibling_id))[0] == set()  # R-ORG-6: as if missing
    # The sales_admin limit: only what it created, whichever filter it names; its head moves with its own only.
    sam_seen, sam_head = await _events(gateway, sam)
    assert (sam_seen - before["sam"][0], sam_head != before["sam"][1]) == ({ids["sam"]}, True)
    assert sam_seen <= {ids["sam"]} | before["sam"][0] and ids["sue"] not in sam_seen
    assert (await _events(gateway, sue))[0] - before["sue"][0] == {ids["sue"]}
    assert (await _events(gateway, sam, includeSubPartners=True))[0] == sam_seen
    assert (await _events(gateway, sam, subPartnerOrgId=DEMO_RESALE_SUB_PARTNER_ID))[0] == set()
    assert ids["lagoon"] not in (await _events(gateway, lagoon_sales))[0]  # the same `sub` in another org
    await gateway.execute(fjord, DELETE, {"id": ids["sue"]})
    assert (await _events(gateway, sam))[1] == sam_head  # another's change leaves sam's head where it was
    trial = await gateway.execute(sam, TRIAL, {"id": ids["sam"]})
    assert trial["trial"]["createdBy"] == "sam@fjord.example"
    # The live feed's predicate selects what the query selects (R-EVT-2), here on the real events.
    db = gateway.runtime.db
    assert db is not None
    every = await db.find("events", {})
    reach = CreatorReach(OWNER, DEMO_RESALE_PARTNER_ID, created_by="sam@fjord.example")
    queried = sorted(d["_id"] for d in await db.find("events", reach.filter()))
    assert queried == sorted(d["_id"] for d in every if reach.admits(d)) and len(queried) >= 2
    # A reader without any trial or customers scope is refused clearly.
    billing_only = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin", scopes=["wholesale_billing_reports_read"])
    refused = await gateway.errors(billing_only, EVENTS, {"filter": {}})
    assert refused[0]["extensions"]["code"] == "FORBIDDEN"
