"""Trials (DOMAIN.md §10) through the API: a trial's whole life on the moving clock (R-TRI-6, R-TRI-11,
R-TRI-STATE), consent by the customer's full admin through its emailed link (R-TRI-4, R-TRI-5, R-NOT-6), extensions,
services and deletion (R-TRI-8, R-TRI-9), and who may see and change what (R-TRI-1, R-TRI-2, R-ORG-4/6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from domain.model.principal import LinkPurpose
from gateway.auth import issue_link_token
from gateway.demo import DEMO_RESALE_PARTNER_ID, DEMO_RESALE_SUB_PARTNER_ID
from tests.conftest import JWT_SECRET, NOW, Demo, Gateway

DAY = timedelta(days=1)
FIELDS = """id status services companyName daysRemaining consentDeadline startedAt endsAt graceEndsAt
  numbersReleaseAt extensionRequest meetingsSiteUrl createdBy version org { id partnerAccess }"""


def _op(document: str) -> str:
    return document.replace("FIELDS", FIELDS)


START = _op("""mutation($input: StartTrialInput!, $for: ID) {
  startTrial(input: $input, onBehalfOfSubPartnerOrgId: $for) { trial { FIELDS } errors { code field } } }""")
RESEND = _op("""mutation($id: ID!) { resendTrialConsent(id: $id) { trial { FIELDS } errors { code field } } }""")
RESPOND = _op("""mutation($id: ID!, $accept: Boolean!, $full: Boolean) {
  respondToTrialConsent(id: $id, accept: $accept, grantFullAdmin: $full) { trial { FIELDS } errors { code } } }""")
EXTEND = _op("""mutation($id: ID!) { extendTrial(id: $id) { trial { FIELDS } errors { code field } } }""")
DECIDE = _op("""mutation($id: ID!, $approve: Boolean!) {
  decideTrialExtension(id: $id, approve: $approve, note: "ok") { trial { FIELDS } errors { code } } }""")
SERVICES = _op("""mutation($id: ID!, $input: TrialServicesInput!) {
  updateTrialServices(id: $id, input: $input) { trial { FIELDS } errors { code field } } }""")
DELETE = _op("""mutation($id: ID!, $for: ID) {
  deleteTrial(id: $id, onBehalfOfSubPartnerOrgId: $for) { trial { FIELDS } errors { code field } } }""")
TRIAL = _op("query($id: ID!) { trial(id: $id) { FIELDS } }")
TRIALS = """query($filter: TrialFilter, $order: TrialOrder) {
  trials(filter: $filter, orderBy: $order) { totalCount edges { node { id status companyName } } } }"""


def _input(company: str, email: str, *services: str, **extra: Any) -> dict[str, Any]:
    return {"companyName": company, "adminEmail": email, "industry": "retail", "country": "NO",
            "services": list(services or ("MESSAGING",)), **extra}


async def _start(gateway: Gateway, token: str, data: dict[str, Any], on_behalf: str | None = None) -> dict[str, Any]:
    result = (await gateway.execute(token, START, {"input": data, "for": on_behalf}))["startTrial"]
    assert result["errors"] == [], result
    trial: dict[str, Any] = result["trial"]
    return trial


async def _seen(gateway: Gateway, token: str, trial_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (await gateway.execute(token, TRIAL, {"id": trial_id}))["trial"]
    return found


async def _trial(gateway: Gateway, token: str, trial_id: str) -> dict[str, Any]:
    found = await _seen(gateway, token, trial_id)
    assert found is not None, trial_id
    return found


async def _mail(gateway: Gateway, trial_id: str) -> list[tuple[str, str, list[str]]]:
    db = gateway.runtime.db
    assert db is not None
    docs = await db.find("notifications", {"entityId": trial_id}, sort=[("createdAt", 1), ("_id", 1)])
    return [(d["kind"], d["audience"], list(d["to"])) for d in docs]


async def _statuses(gateway: Gateway, trial_id: str) -> list[tuple[str | None, str, str | None]]:
    events = await gateway.events(entityId=trial_id, action={"$exists": True})
    return [(e["fromStatus"], e["toStatus"], e["reason"]) for e in events]


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.mark.settled_demo
async def test_r_tri_11_a_trial_s_whole_life_on_the_clock(gateway: Gateway, demo: Demo) -> None:
    """R-TRI-6, R-TRI-11, R-TRI-STATE, R-TRI-8: provisioning, the 7-day and expiry-day notices, an extension that
    leaves the old timers nothing to do, the 30-day grace, the purge and the numbers held 15 more days."""
    sales = gateway.token(DEMO_RESALE_PARTNER_ID, "sales_admin", subject="sam@fjord.example")
    trial = await _start(gateway, sales, _input("Nordlys Bakeri", "Ola@Nordlys.example", "MESSAGING", "MEETINGS",
                                                "CALLING", meetings={"siteUrl": "nordlys-trial.webex.com",
                                                                     "timezone": "Europe/Oslo"}))
    tid = trial["id"]
    assert (trial["status"], trial["daysRemaining"], trial["org"], trial["createdBy"]) == (
        "pending_provisioning_details", None, None, "sam@fjord.example")
    await gateway.settle()  # R-TRI-6: the simulated Webex side makes the org, the admin its first full admin
    trial = await _trial(gateway, sales, tid)
    assert trial["status"] == "active"
    assert (_at(trial["startedAt"]), _at(trial["endsAt"]), trial["daysRemaining"]) == (NOW, NOW + 30 * DAY, 30)
    assert trial["org"]["partnerAccess"] == "FULL_ADMIN"
    assert _at(trial["numbersReleaseAt"]) == NOW + 75 * DAY  # endsAt + 30 days of grace + 15
    assert await _mail(gateway, tid) == [("CUSTOMER_ADMIN_WELCOME", "CUSTOMER_ADMINS", ["ola@nordlys.example"])]

    gateway.clock.advance(10 * DAY)  # R-TRI-8: now + 30 days, not added to what is left
    extended = (await gateway.execute(sales, EXTEND, {"id": tid}))["extendTrial"]["trial"]
    ends = NOW + 40 * DAY
    assert (_at(extended["endsAt"]), extended["status"]) == (ends, "active")
    gateway.clock.set(NOW + 30 * DAY)  # the original end: its timers find the trial extended and do nothing
    await gateway.settle()
    trial = await _trial(gateway, sales, tid)
    assert (trial["status"], trial["daysRemaining"]) == ("active", 10)
    assert await _mail(gateway, tid) == [("CUSTOMER_ADMIN_WELCOME", "CUSTOMER_ADMINS", ["ola@nordlys.example"])]

    gateway.clock.set(ends - 7 * DAY)  # R-TRI-11: the warning, to customer admins and partner admins separately
    await gateway.settle()
    warned = await _mail(gateway, tid)
    assert sorted(warned[1:]) == [("TRIAL_EXPIRY_WARNING", "CUSTOMER_ADMINS", ["ola@nordlys.example"]),
                                  ("TRIAL_EXPIRY_WARNING", "PARTNER_ADMINS",
                                   ["sales-desk@fjord-cloud.example", "sam@fjord.example"])]
    expiring = (await gateway.execute(sales, TRIALS, {"filter": {"expiringWithinDays": 7}}))["trials"]
    assert tid in [e["node"]["id"] for e in expiring["edges"]]

    gateway.clock.set(ends)
    await gateway.settle()
    trial = await _trial(gateway, sales, tid)
    assert (trial["status"], trial["daysRemaining"]) == ("expired", 0)
    assert _at(trial["graceEndsAt"]) == ends + 30 * DAY
    assert sorted(m[:2] for m in (await _mail(gateway, tid))[3:]) == [("TRIAL_EXPIRED", "CUSTOMER_ADMINS"),
                                                                     ("TRIAL_EXPIRED", "PARTNER_ADMINS")]
    await gateway.settle()  # a timer running again sends nothing new (R-NOT-1)
    assert len(await _mail(gateway, tid)) == 5

    gateway.clock.set(ends + 30 * DAY)  # the grace ends: users told, then the purge, irreversibly
    await gateway.settle()
    trial = await _trial(gateway, sales, tid)
    assert (trial["status"], trial["org"]) == ("purged", None)
    assert _at(trial["numbersReleaseAt"]) == ends + 45 * DAY
    assert (await _mail(gateway, tid))[5] == ("TRIAL_ACCESS_ENDED", "USERS", ["ola@nordlys.example"])
    listed = (await gateway.execute(sales, TRIALS, {"filter": {"companyNameContains": "nordlys"}}))["trials"]
    assert listed["totalCount"] == 0  # terminal states are hidden by default
    listed = (await gateway.execute(sales, TRIALS, {"filter": {"status": ["purged"]}}))["trials"]
    assert [e["node"]["id"] for e in listed["edges"]] == [tid]
    assert [(f, t) for f, t, _ in await _statuses(gateway, tid)] == [
        (None, "pending_provisioning_details"), ("pending_provisioning_details", "active"), ("active", "active"),
        ("active", "expired"), ("expired", "purged")]
    # The site name is free again once the trial's org is purged (conflict (e)).
    again = await _start(gateway, sales, _input("Nordlys Two", "kari@nordlys2.example", "MEETINGS", meetings={
        "siteUrl": "nordlys-trial", "timezone": "Europe/Oslo"}))
    assert again["meetingsSiteUrl"] == "nordlys-trial.webex.com"


@pytest.mark.settled_demo
async def test_r_tri_5_consent_by_a_full_admin_through_its_link(gateway: Gateway, demo: Demo) -> None:
    """R-TRI-4, R-TRI-5, R-NOT-6, R-TRI-STATE: an org another partner manages must be confirmed and consent; the
    resend revokes the old link and keeps the deadline; only a full admin answers; 10 days unanswered → cancelled."""
    lagoon = gateway.token(DEMO_RESALE_SUB_PARTNER_ID, "full_admin")
    first = await _start(gateway, lagoon, _input("Orbit Shipping", "ops@orbit.example"))
    second = await _start(gateway, lagoon, _input("Polar Foods", "it@polar.example"))
    await gateway.settle()
    fjord = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin", subject="fiona@fjord.example")
    # R-TRI-4: every problem at once, nothing written.
    async with gateway.writes_nothing():
        refused = (await gateway.execute(fjord, START, {"input": _input("Orbit", "OPS@orbit.example")}))
    assert {(e["code"], tuple(e["field"])) for e in refused["startTrial"]["errors"]} == {
        ("CONFIRMATION_REQUIRED", ("input", "confirmExistingOrgId")), ("SERVICE_NOT_TRIALABLE", ("input", "services"))}
    org_id = (await _trial(gateway, lagoon, first["id"]))["org"]["id"]
    trial = await _start(gateway, fjord, _input("Orbit", "ops@orbit.example", "CALLING",
                                                confirmExistingOrgId=org_id))
    tid = trial["id"]
    assert (trial["status"], _at(trial["consentDeadline"])) == ("pending_customer_consent", NOW + 10 * DAY)
    dup = (await gateway.execute(fjord, START, {"input": _input("Orbit", "ops@orbit.example", "CALLING",
                                                                confirmExistingOrgId=org_id)}))["startTrial"]
    assert [e["code"] for e in dup["errors"]] == ["TRIAL_EXISTS"]
    # R-ORG-2/6: the sub-partner does not see its parent's trial; the parent sees the sub-partner's only on request.
    assert await _seen(gateway, lagoon, tid) is None
    async with gateway.writes_nothing():  # another tenant's trial is missing for writes too
        hidden = (await gateway.execute(lagoon, RESEND, {"id": tid}))["resendTrialConsent"]
    assert [(e["code"], e["field"]) for e in hidden["errors"]] == [("NOT_FOUND", ["id"])]
    mine = (await gateway.execute(fjord, TRIALS, {"filter": {"companyNameContains": "orbit"}}))["trials"]
    assert [e["node"]["id"] for e in mine["edges"]] == [tid]
    both = (await gateway.execute(fjord, TRIALS, {"filter": {"companyNameContains": "orbit",
                                                              "includeSubPartners": True}}))["trials"]
    assert {e["node"]["id"] for e in both["edges"]} == {tid, first["id"]}

    def link(version: int, recipient: str = "ops@orbit.example") -> str:
        return issue_link_token(JWT_SECRET, purpose=LinkPurpose.TRIAL_CONSENT, recipient=recipient,
                                owner_org_id=DEMO_RESALE_PARTNER_ID, entity_id=tid, version=version,
                                expires_at=NOW + 10 * DAY)

    gateway.clock.advance(2 * DAY)
    resent = (await gateway.execute(fjord, RESEND, {"id": tid}))["resendTrialConsent"]["trial"]
    assert _at(resent["consentDeadline"]) == NOW + 10 * DAY  # the deadline is kept
    assert [m[0] for m in await _mail(gateway, tid)] == ["TRIAL_CONSENT_REQUEST", "TRIAL_CONSENT_REQUEST"]
    old = await gateway.errors(link(1), RESPOND, {"id": tid, "accept": True})
    assert old[0]["extensions"]["code"] == "UNAUTHENTICATED"
    stranger = await gateway.errors(link(2, "someone@orbit.example"), RESPOND, {"id": tid, "accept": True})
    assert stranger[0]["extensions"]["code"] == "FORBIDDEN"
    accepted = (await gateway.execute(link(2), RESPOND, {"id": tid, "accept": True}))["respondToTrialConsent"]
    assert accepted["trial"]["status"] == "pending_provisioning_details"
    await gateway.settle()
    trial = await _trial(gateway, fjord, tid)
    assert (trial["status"], trial["org"]["partnerAccess"]) == ("active", "PROVISIONING_ADMIN")
    # R-TRI-6: an org the owner manages already needs no consent; its admins hear the trial started.
    design = (await gateway.execute(fjord, 'query { orgLookup(adminEmail: "it@nordlys-design.example") '
                                           '{ org { id } } }'))["orgLookup"]["org"]["id"]
    managed = await _start(gateway, fjord, _input("Nordlys Design", "it@nordlys-design.example", "CALLING",
                                                  confirmExistingOrgId=design))
    assert managed["status"] == "pending_provisioning_details"
    await gateway.settle()
    assert await _mail(gateway, managed["id"]) == [("TRIAL_STARTED", "CUSTOMER_ADMINS", ["it@nordlys-design.example"])]

    # A consent left unanswered for 10 days cancels the trial.
    polar = (await _trial(gateway, lagoon, second["id"]))["org"]["id"]
    waiting = await _start(gateway, fjord, _input("Polar", "it@polar.example", "CALLING",
                                                  confirmExistingOrgId=polar))
    gateway.clock.advance(10 * DAY)
    await gateway.settle()
    trial = await _trial(gateway, fjord, waiting["id"])
    assert trial["status"] == "cancelled"


@pytest.mark.settled_demo
async def test_r_tri_8_device_extensions_services_and_deletion(gateway: Gateway, demo: Demo) -> None:
    """R-TRI-8 (a DEVICES trial asks platform_admin; EXTENSION_PENDING), R-TRI-9 (the services list replaced),
    R-TRI-11 deleteTrial, R-TRI-1/2 (a wholesale partner, a sales_admin on another's trial), R-ORG-4."""
    fjord = gateway.token(DEMO_RESALE_PARTNER_ID, "full_admin")
    wholesale = (await gateway.execute(gateway.token(demo.partner), START, {"input": _input("X", "x@x.example")}))
    assert [e["code"] for e in wholesale["startTrial"]["errors"]] == ["ROUTE_TO_MARKET_MISMATCH"]
    trial = await _start(gateway, fjord, _input("Fjell Tech", "it@fjell.example", "MESSAGING", "DEVICES"),
                         DEMO_RESALE_SUB_PARTNER_ID)  # R-ORG-4: owned by the sub-partner
    tid = trial["id"]
    await gateway.settle()
    lagoon = gateway.token(DEMO_RESALE_SUB_PARTNER_ID, "full_admin")
    gateway.clock.advance(5 * DAY)
    asked = (await gateway.execute(lagoon, EXTEND, {"id": tid}))["extendTrial"]["trial"]
    assert (asked["extensionRequest"], _at(asked["endsAt"])) == ("pending", NOW + 30 * DAY)
    again = (await gateway.execute(lagoon, EXTEND, {"id": tid}))["extendTrial"]
    assert [e["code"] for e in again["errors"]] == ["EXTENSION_PENDING"]
    waiting = (await gateway.execute(lagoon, TRIALS, {"filter": {"extensionPending": True}}))["trials"]
    assert tid in [e["node"]["id"] for e in waiting["edges"]]
    forbidden = await gateway.errors(lagoon, DECIDE, {"id": tid, "approve": True})
    assert forbidden[0]["extensions"]["code"] == "FORBIDDEN"
    gateway.clock.advance(DAY)
    approved = (await gateway.execute(gateway.token(None, "platform_admin"), DECIDE, {"id": tid, "approve": True}))
    decided = approved["decideTrialExtension"]["trial"]
    assert (decided["extensionRequest"], _at(decided["endsAt"])) == ("approved", NOW + 36 * DAY)

    sales = gateway.token(DEMO_RESALE_SUB_PARTNER_ID, "sales_admin", subject="other@lagoon.example")
    assert await _seen(gateway, sales, tid) is None  # R-TRI-2: not its own
    async with gateway.writes_nothing():
        refused = (await gateway.execute(lagoon, SERVICES, {"id": tid, "input": {"services": ["MEETINGS"]}}))
    assert [(e["code"], e["field"]) for e in refused["updateTrialServices"]["errors"]] == [
        ("REQUIRED", ["input", "meetings"])]
    changed = (await gateway.execute(lagoon, SERVICES, {"id": tid, "input": {
        "services": ["CALLING", "MEETINGS"], "meetings": {"siteUrl": "fjell", "timezone": "Europe/Oslo"}}}))
    updated = changed["updateTrialServices"]["trial"]
    assert (updated["services"], updated["meetingsSiteUrl"]) == (["CALLING", "MEETINGS"], "fjell.webex.com")
    assert updated["numbersReleaseAt"] is not None
    deleted = (await gateway.execute(lagoon, DELETE, {"id": tid}))["deleteTrial"]["trial"]
    assert (deleted["status"], _at(deleted["numbersReleaseAt"])) == ("deleted", NOW + 21 * DAY)
    async with gateway.writes_nothing():
        twice = (await gateway.execute(lagoon, DELETE, {"id": tid}))["deleteTrial"]
    assert [e["code"] for e in twice["errors"]] == ["INVALID_STATE"]
    assert [t for _, t, _ in await _statuses(gateway, tid)][-1] == "deleted"
