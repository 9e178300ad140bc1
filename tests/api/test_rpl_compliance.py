"""Restricted-party screening and review (R-RPL-1…4), through the API with the job queue driven by the test."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from domain.rules.rpl import RplEntry
from tests.api.provisioning import (
    CONTACT,
    CUSTOMER,
    DECIDE,
    UPDATE,
    current,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    refused,
    reviewer_token,
)
from tests.conftest import JWT_SECRET, Demo, Gateway

# The demo as its first settle leaves it: these tests are about entities of their own (tests/conftest.py).
pytestmark = pytest.mark.settled_demo

LIST = "Test Denied Parties"
QUEUE = "query { rplReviewQueue { totalCount edges { node { id name status compliance { reviewDeadline } } } } }"


async def _listed(gateway: Gateway, name: str, country: str | None = None, aliases: tuple[str, ...] = ()) -> None:
    await gateway.repos.rpl.load([RplEntry.create(LIST, name, aliases, country)])


async def _customer(gateway: Gateway, demo: Demo, name: str, external_id: str = "RPL-1",
                    country: str = "US") -> dict[str, object]:
    data = customer_input(await provisioning_id(gateway, demo.partner), external_id)
    data["customerInfo"]["name"] = name
    data["address"]["country"] = country
    return await provision(gateway, partner_token(gateway, demo), data)


async def _customer_event_chain(gateway: Gateway, customer_id: str) -> list[tuple[str | None, str, int]]:
    return [(e["fromStatus"], e["toStatus"], e["version"])
            for e in await gateway.events(entityId=customer_id, entityType="CUSTOMER")]


async def test_r_rpl_1_screening_runs_in_the_background_not_in_the_mutation(gateway: Gateway, demo: Demo) -> None:
    await _listed(gateway, "Acme Trading Ltd")
    customer = await _customer(gateway, demo, "ACME TRADING LIMITED")
    # The mutation answers before any screening happened.
    assert customer["status"] == "provisioning"
    assert customer["compliance"]["screenedAt"] is None  # type: ignore[index]
    await gateway.settle()
    after = await current(gateway, partner_token(gateway, demo), str(customer["id"]))
    assert after["status"] == "pending_rpl_review"
    assert after["compliance"]["state"] == "under_review"
    assert after["compliance"]["screenedAt"] is not None


async def test_r_rpl_2_no_match_continues_to_provisioned(gateway: Gateway, demo: Demo) -> None:
    await _listed(gateway, "Acme Trading Ltd")
    customer = await _customer(gateway, demo, "Springfield Plumbing")
    await gateway.settle()
    after = await current(gateway, partner_token(gateway, demo), str(customer["id"]))
    assert after["status"] == "provisioned"
    assert after["compliance"]["state"] == "clear" and after["compliance"]["matches"] == []
    assert await _customer_event_chain(gateway, str(customer["id"])) == [
        (None, "provisioning", 1), ("provisioning", "provisioned", 3)]


async def test_r_rpl_2_approved_review_continues_to_provisioned(gateway: Gateway, demo: Demo) -> None:
    await _listed(gateway, "Globex Corporation")
    customer = await _customer(gateway, demo, "Globex Corp.")
    await gateway.settle()
    decided = (await gateway.execute(reviewer_token(gateway), DECIDE, {
        "id": customer["id"], "decision": "APPROVE", "note": "false positive: different company"}))["decideRplReview"]
    assert decided["errors"] == []
    assert decided["customer"]["compliance"]["state"] == "approved"
    assert decided["customer"]["compliance"]["note"] == "false positive: different company"
    await gateway.settle()
    after = await current(gateway, partner_token(gateway, demo), str(customer["id"]))
    assert after["status"] == "provisioned" and after["orgId"]
    chain = await _customer_event_chain(gateway, str(customer["id"]))
    assert [(f, t) for f, t, _ in chain] == [
        (None, "provisioning"), ("provisioning", "pending_rpl_review"), ("pending_rpl_review", "provisioned")]
    versions = [v for _, _, v in chain]
    assert versions == sorted(set(versions)), "versions must increase with every change"


async def test_r_rpl_2_rejected_review_ends_in_error(gateway: Gateway, demo: Demo) -> None:
    await _listed(gateway, "Globex Corporation")
    customer = await _customer(gateway, demo, "Globex Corporation")
    await gateway.settle()
    decided = (await gateway.execute(reviewer_token(gateway), DECIDE, {
        "id": customer["id"], "decision": "REJECT"}))["decideRplReview"]
    assert decided["customer"]["status"] == "error"
    assert decided["customer"]["errors"][0]["code"] == "RPL_REJECTED"
    assert decided["customer"]["compliance"]["state"] == "rejected"
    assert decided["customer"]["compliance"]["decidedAt"] is not None
    assert all(p["status"] == "error" for p in decided["customer"]["packages"])
    await gateway.settle()
    assert (await current(gateway, partner_token(gateway, demo), str(customer["id"])))["orgId"] is None


async def test_r_rpl_2_undecided_review_times_out_after_72_hours(gateway: Gateway, demo: Demo) -> None:
    await _listed(gateway, "Initech")
    customer = await _customer(gateway, demo, "Initech")
    await gateway.settle()
    token = partner_token(gateway, demo)
    gateway.clock.advance(timedelta(hours=71, minutes=59))
    await gateway.settle()
    assert (await current(gateway, token, str(customer["id"])))["status"] == "pending_rpl_review"
    gateway.clock.advance(timedelta(minutes=2))
    await gateway.settle()
    after = await current(gateway, token, str(customer["id"]))
    assert after["status"] == "error"
    assert [e["code"] for e in after["errors"]] == ["RPL_REVIEW_TIMEOUT"]
    assert after["compliance"]["state"] == "timed_out"
    # Onboarding does not continue: a late decision is refused.
    errors = await refused(gateway, reviewer_token(gateway), DECIDE, {"id": customer["id"], "decision": "APPROVE"})
    assert [e["code"] for e in errors] == ["INVALID_STATE"]


async def test_r_rpl_2_a_decided_review_cancels_its_timeout(gateway: Gateway, demo: Demo) -> None:
    await _listed(gateway, "Initech")
    customer = await _customer(gateway, demo, "Initech")
    await gateway.settle()
    await gateway.execute(reviewer_token(gateway), DECIDE, {"id": customer["id"], "decision": "APPROVE"})
    await gateway.settle()
    gateway.clock.advance(timedelta(hours=80))
    await gateway.settle()
    assert (await current(gateway, partner_token(gateway, demo), str(customer["id"])))["status"] == "provisioned"


async def test_r_rpl_2_only_a_compliance_reviewer_decides(gateway: Gateway, demo: Demo) -> None:
    await _listed(gateway, "Initech")
    customer = await _customer(gateway, demo, "Initech")
    await gateway.settle()
    for token in (partner_token(gateway, demo), gateway.token(None, "platform_admin")):
        errors = await gateway.errors(token, DECIDE, {"id": customer["id"], "decision": "APPROVE"})
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    errors = await gateway.errors(partner_token(gateway, demo), QUEUE)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_r_rpl_2_deciding_without_a_pending_review_is_refused(gateway: Gateway, demo: Demo) -> None:
    customer = await _customer(gateway, demo, "Springfield Plumbing")
    reviewer = reviewer_token(gateway)
    errors = await refused(gateway, reviewer, DECIDE, {"id": customer["id"], "decision": "APPROVE"})
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_STATE", ["customerId"])]
    errors = await refused(gateway, reviewer, DECIDE, {"id": "cus_000000000000000000000000", "decision": "REJECT"})
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", ["customerId"])]


async def test_r_rpl_2_review_queue_lists_waiting_customers_of_every_partner_most_urgent_first(
        gateway: Gateway, demo: Demo) -> None:
    before = (await gateway.execute(reviewer_token(gateway), QUEUE))["rplReviewQueue"]
    await _listed(gateway, "Initech")
    customer = await _customer(gateway, demo, "Initech")
    await gateway.settle()
    queue = (await gateway.execute(reviewer_token(gateway), QUEUE))["rplReviewQueue"]
    assert queue["totalCount"] == before["totalCount"] + 1
    assert customer["id"] in [e["node"]["id"] for e in queue["edges"]]
    # The demo's waiting reviews (parent and sub-partners) are there too, earliest deadline first.
    deadlines = [e["node"]["compliance"]["reviewDeadline"] for e in queue["edges"]]
    assert deadlines == sorted(deadlines) and len(deadlines) >= 2
    assert all(e["node"]["status"] == "pending_rpl_review" for e in queue["edges"])


async def test_r_rpl_1_a_billing_address_change_is_screened_again(gateway: Gateway, demo: Demo) -> None:
    await _listed(gateway, "Springfield Plumbing RPL-1", country="CA")
    customer = await _customer(gateway, demo, "Springfield Plumbing RPL-1", country="US")
    await gateway.settle()
    token = partner_token(gateway, demo)
    assert (await current(gateway, token, str(customer["id"])))["status"] == "provisioned"
    # Same address again: no new screening.
    same = customer_input("x")["address"]
    await gateway.execute(token, UPDATE, {"id": customer["id"], "input": {
        "packages": ["webex_calling", "webex_meetings"], "address": same}})
    await gateway.settle()
    assert (await current(gateway, token, str(customer["id"])))["status"] == "provisioned"
    moved = {**same, "country": "CA", "stateOrProvince": "ON"}
    updated = (await gateway.execute(token, UPDATE, {"id": customer["id"], "input": {
        "packages": ["webex_calling", "webex_meetings"], "address": moved}}))["updateCustomer"]
    assert updated["customer"]["status"] == "updating"
    await gateway.settle()
    after = await current(gateway, token, str(customer["id"]))
    assert after["status"] == "pending_rpl_review"
    assert after["compliance"]["matches"][0]["country"] == "CA"


async def _flagged(gateway: Gateway, demo: Demo) -> str:
    """A provisioned customer whose review after an address change was rejected (R-RPL-3)."""
    await _listed(gateway, "Springfield Plumbing RPL-1", country="CA")
    customer = await _customer(gateway, demo, "Springfield Plumbing RPL-1", country="US")
    await gateway.settle()
    moved = {**customer_input("x")["address"], "country": "CA"}
    await gateway.execute(partner_token(gateway, demo), UPDATE, {"id": customer["id"], "input": {
        "packages": ["webex_calling", "webex_meetings"], "address": moved}})
    await gateway.settle()
    decided = (await gateway.execute(reviewer_token(gateway), DECIDE, {
        "id": customer["id"], "decision": "REJECT", "note": "confirmed match"}))["decideRplReview"]
    assert decided["errors"] == []
    await gateway.settle()
    return str(customer["id"])


async def test_r_rpl_3_rejection_of_a_provisioned_customer_flags_it(gateway: Gateway, demo: Demo) -> None:
    customer_id = await _flagged(gateway, demo)
    after = await current(gateway, partner_token(gateway, demo), customer_id)
    assert after["status"] == "provisioned" and after["orgId"]
    assert after["compliance"]["state"] == "rejected"
    assert after["compliance"]["nonCompliantSince"] is not None
    assert [w["code"] for w in after["warnings"]] == ["NON_COMPLIANT"]


async def test_r_rpl_3_still_non_compliant_after_30_days_starts_deprovisioning(gateway: Gateway, demo: Demo) -> None:
    customer_id = await _flagged(gateway, demo)
    token = partner_token(gateway, demo)
    gateway.clock.advance(timedelta(days=29, hours=23))
    await gateway.settle()
    assert (await current(gateway, token, customer_id))["status"] == "provisioned"
    gateway.clock.advance(timedelta(hours=2))
    await gateway.settle()
    assert (await gateway.execute(token, CUSTOMER, {"id": customer_id}))["customer"] is None
    chain = await _customer_event_chain(gateway, customer_id)
    assert chain[-2][:2] == ("provisioned", "deleting") and chain[-1][:2] == ("deleting", "deleted")


async def test_r_rpl_3_three_unreached_contact_attempts_start_deprovisioning(gateway: Gateway, demo: Demo) -> None:
    customer_id = await _flagged(gateway, demo)
    reviewer = reviewer_token(gateway)
    statuses = []
    for reached in (False, True, False, False):
        answer = (await gateway.execute(reviewer, CONTACT, {"id": customer_id, "reached": reached,
                                                             "note": "called the partner"}))
        payload = answer["recordComplianceContactAttempt"]
        assert payload["errors"] == []
        statuses.append(payload["customer"]["status"])
    # The attempt that reached the partner does not count towards the three.
    assert statuses == ["provisioned", "provisioned", "provisioned", "deleting"]


async def test_r_rpl_3_contact_attempts_only_for_flagged_customers(gateway: Gateway, demo: Demo) -> None:
    customer = await _customer(gateway, demo, "Springfield Plumbing")
    await gateway.settle()
    errors = await refused(gateway, reviewer_token(gateway), CONTACT, {"id": customer["id"], "reached": False})
    assert [e["code"] for e in errors] == ["INVALID_STATE"]
    errors = await gateway.errors(partner_token(gateway, demo), CONTACT, {"id": customer["id"], "reached": False})
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_r_rpl_3_a_clean_screening_lifts_the_flag(gateway: Gateway, demo: Demo) -> None:
    customer_id = await _flagged(gateway, demo)
    back = customer_input("x")["address"]  # the US address again: the CA-only entry no longer matches
    await gateway.execute(partner_token(gateway, demo), UPDATE, {"id": customer_id, "input": {
        "packages": ["webex_calling", "webex_meetings"], "address": back}})
    await gateway.settle()
    after = await current(gateway, partner_token(gateway, demo), customer_id)
    assert after["compliance"]["state"] == "clear" and after["compliance"]["nonCompliantSince"] is None
    assert after["warnings"] == []
    gateway.clock.advance(timedelta(days=31))
    await gateway.settle()
    assert (await current(gateway, partner_token(gateway, demo), customer_id))["status"] == "provisioned"


async def test_r_rpl_4_matching_ignores_case_punctuation_legal_suffix_and_token_order(
        gateway: Gateway, demo: Demo) -> None:
    await _listed(gateway, "Trading Acme, Ltd.", aliases=("Acme Intl",))
    matched = await _customer(gateway, demo, "ACME TRADING LIMITED", "RPL-1")
    alias = await _customer(gateway, demo, "acme intl", "RPL-2")
    other = await _customer(gateway, demo, "Acme Dental Care", "RPL-3")
    await gateway.settle()
    token = partner_token(gateway, demo)
    first = await current(gateway, token, str(matched["id"]))
    assert first["status"] == "pending_rpl_review"
    match = first["compliance"]["matches"][0]
    assert match["listName"] == LIST and match["entryName"] == "Trading Acme, Ltd." and match["score"] >= 88
    second = await current(gateway, token, str(alias["id"]))
    assert second["compliance"]["matches"][0]["entryName"] == "Trading Acme, Ltd."
    assert (await current(gateway, token, str(other["id"])))["status"] == "provisioned"


async def test_r_rpl_4_an_entry_with_a_country_only_matches_customers_there(gateway: Gateway, demo: Demo) -> None:
    await _listed(gateway, "Nordic Freight AB", country="SE")
    elsewhere = await _customer(gateway, demo, "Nordic Freight AB", "RPL-1", country="NO")
    there = await _customer(gateway, demo, "Nordic Freight AB", "RPL-2", country="SE")
    await gateway.settle()
    token = partner_token(gateway, demo)
    assert (await current(gateway, token, str(elsewhere["id"])))["status"] == "provisioned"
    assert (await current(gateway, token, str(there["id"])))["status"] == "pending_rpl_review"


async def test_r_rpl_4_gateway_rpl_load_reads_a_screening_list_csv(
        gateway: Gateway, mongo_uri: str, tmp_path: Path) -> None:
    """The CLI loads a CSV in the Consolidated Screening List layout (extra columns ignored), idempotently."""
    csv = tmp_path / "csl.csv"
    csv.write_text("_id,source,entity_number,type,name,alt_names,addresses,country\n"
                   '1,Entity List (EL),123,Entity,"Volga Machine Works, OOO",Volga MW; VMW Export,Moscow,RU\n'
                   "2,Unverified List (UVL),,Entity,Kestrel Avionics,,,\n")
    db = gateway.runtime.db
    assert db is not None
    env = {**os.environ, "GATEWAY_MONGODB_URI": mongo_uri, "GATEWAY_DATABASE": db.name,
           "GATEWAY_JWT_SECRET": JWT_SECRET, "GATEWAY_DATA_DIR": str(tmp_path)}
    for _ in range(2):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", "rpl", "load", str(csv), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode == 0, err.decode()
        assert "loaded 2 restricted-party entries" in out.decode()
    entries = {e.name: e for e in await gateway.repos.rpl.all()}
    assert set(entries) == {"Volga Machine Works, OOO", "Kestrel Avionics"}
    assert entries["Volga Machine Works, OOO"].alt_names == ("Volga MW", "VMW Export")
    assert entries["Volga Machine Works, OOO"].country == "RU" and entries["Kestrel Avionics"].country is None
    bad = tmp_path / "bad.csv"
    bad.write_text("source,title\nEL,x\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "rpl", "load", str(bad), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 2 and "name" in err.decode()


async def test_r_rpl_2_an_overlong_note_is_refused_and_the_review_stays_open(gateway: Gateway, demo: Demo) -> None:
    await _listed(gateway, "Initech")
    customer = await _customer(gateway, demo, "Initech")
    await gateway.settle()
    errors = await refused(gateway, reviewer_token(gateway), DECIDE, {
        "id": customer["id"], "decision": "REJECT", "note": "x" * 2001})
    assert [(e["code"], e["field"]) for e in errors] == [("TOO_LONG", ["note"])]
    assert (await current(gateway, partner_token(gateway, demo), str(customer["id"])))["status"] == \
        "pending_rpl_review"
