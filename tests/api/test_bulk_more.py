"""Bulk subscriber operations through the API, continued (DOMAIN.md §15): many rows in chunks, a crash resumed,
acting for a sub-partner (R-ORG-4), the upload limits, add-ons like the single mutations, and the demo's batches."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from domain.store.jobs import JobQueue, LeaseLost
from domain.workflows.batches import BatchJobs
from tests.api.provisioning import (
    PROVISION_SUBSCRIBER,
    UPDATE_SUBSCRIBER,
    customer_input,
    partner_token,
    provision,
    provisioning_id,
    refused,
    subscriber_input,
)
from tests.api.test_bulk import BATCH_FIELDS, BULK, HEADER, IMPORT, _batch, _bulk, _create, _customer
from tests.conftest import Demo, Gateway

pytestmark = pytest.mark.settled_demo

IMPORT_FOR = f"""mutation($input: SubscriberImportInput!, $for: ID) {{
  importSubscribers(input: $input, onBehalfOfSubPartnerOrgId: $for) {{
    batch {{ {BATCH_FIELDS} }} errors {{ code field }} }} }}"""
# Three chunks of 100 rows, the last of one row: the least that shows chunking and a partial last chunk.
ROWS = 201
CSV_ROWS = HEADER + "".join(f"r{i:03d}@many.example,Row,{i},,,{20000 + i},TRUE,\n" for i in range(ROWS))
PROGRESS_EVENTS = {"action": "PROGRESS"}


async def _exactly_once(gateway: Gateway, customer_id: str, batch_id: str, total: int) -> None:
    """Every row of an import of `total` new emails ended once: accepted, one subscriber per email, created once."""
    db = gateway.runtime.db
    assert db is not None
    batch = (await db.find("subscriber_batches", {"_id": batch_id}))[0]
    assert (batch["status"], batch["processedRows"], batch["acceptedRows"], batch["refusedRows"]) == (
        "completed", total, total, 0)
    rows = await db.find("subscriber_batch_rows", {"batchId": batch_id})
    assert len(rows) == total and {r["status"] for r in rows} == {"accepted"}
    subscribers = await db.find("subscribers", {"customerId": customer_id})
    assert sorted(s["email"] for s in subscribers) == [f"r{i:03d}@many.example" for i in range(total)]
    assert sorted(r["subscriberId"] for r in rows) == sorted(s["_id"] for s in subscribers)
    created = await gateway.events(entityType="SUBSCRIBER", fromStatus=None, **{"details.batchId": batch_id})
    assert sorted(e["entityId"] for e in created) == sorted(s["_id"] for s in subscribers)  # each row applied once
    progress = await gateway.events(entityId=batch_id, **PROGRESS_EVENTS)
    assert [e["details"]["processedRows"] for e in progress] == [100, 200, ROWS]  # one event per chunk of 100


async def test_r_bulk_3_r_bulk_4_an_import_of_201_rows_commits_3_chunks_each_with_its_progress_event(
        gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    customer_id = await _customer(gateway, demo)
    data = await gateway.execute(token, IMPORT, {"input": {"customerId": customer_id, "csv": CSV_ROWS}})
    batch_id = data["importSubscribers"]["batch"]["id"]
    await gateway.settle()
    await _exactly_once(gateway, customer_id, batch_id, ROWS)
    progress = await gateway.events(entityId=batch_id, **PROGRESS_EVENTS)
    assert [(e["details"]["acceptedRows"], e["details"]["totalRows"], e["version"]) for e in progress] == [
        (100, ROWS, 3), (200, ROWS, 4), (ROWS, ROWS, 5)]


async def test_r_bulk_3_a_worker_killed_after_its_first_chunk_is_resumed_at_the_next_row_never_twice(
        gateway: Gateway, demo: Demo) -> None:
    """R-BULK-3: a crash resumes at the first uncommitted row. A worker claims the batch's job, commits one chunk
    and dies holding the lease; once the lease runs out another worker takes the job over and finishes the batch.
    The dead worker, coming back with its stale lease, can commit nothing."""
    token = partner_token(gateway, demo)
    customer_id = await _customer(gateway, demo)
    data = await gateway.execute(token, IMPORT, {"input": {"customerId": customer_id, "csv": CSV_ROWS}})
    batch_id = data["importSubscribers"]["batch"]["id"]
    assert gateway.runtime.db is not None
    doomed = JobQueue(gateway.runtime.db, gateway.clock, "doomed-worker", timedelta(seconds=30))
    [doc] = [d for d in await doomed.due(50) if d["entityId"] == batch_id]
    job = await doomed.claim(doc)
    assert job is not None
    await BatchJobs(gateway.repos, doomed).run(job, chunks=1)  # ... and the process dies here
    await gateway.settle()  # the leased job is nobody else's yet (the first 100 subscribers settle meanwhile)
    half = await _batch(gateway, token, batch_id)
    assert (half["status"], half["processedRows"], half["acceptedRows"]) == ("running", 100, 100)

    gateway.clock.advance(timedelta(minutes=5))  # the lease runs out: another worker takes the job over
    await gateway.settle()
    await _exactly_once(gateway, customer_id, batch_id, ROWS)
    with pytest.raises(LeaseLost):
        await BatchJobs(gateway.repos, doomed).run(job)
    await _exactly_once(gateway, customer_id, batch_id, ROWS)


async def test_r_org_4_a_parent_imports_for_its_sub_partner_a_stranger_is_not_a_sub_partner(gateway: Gateway,
                                                                                             demo: Demo) -> None:
    parent = partner_token(gateway, demo)
    template = await provisioning_id(gateway, demo.sub_a)
    customer = await provision(gateway, parent, customer_input(template, "BULK-SUB-1"), demo.sub_a)
    await gateway.settle()
    ops = [_create("for@bulk.example", "9001")]
    batch = await _bulk(gateway, parent, customer["id"], ops, **{"for": demo.sub_a})
    assert batch["customer"]["id"] == customer["id"]
    await gateway.settle()
    done = await _batch(gateway, gateway.token(demo.sub_a, "full_admin"), batch["id"])  # the sub-partner's batch
    assert (done["status"], done["acceptedRows"]) == ("completed", 1)
    assert done["createdBy"]["kind"] == "PARENT_PARTNER"  # R-AUD-1: the sub-partner sees its parent, no one in it
    # Without naming the sub-partner, its customer is not the parent's own: as if it did not exist (R-ORG-6).
    errors = await refused(gateway, parent, BULK, {"c": customer["id"], "ops": ops})
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", ["customerId"])]
    # Another org than one of its sub-partners.
    errors = await refused(gateway, gateway.token(demo.sub_b, "full_admin"), BULK,
                           {"c": customer["id"], "ops": ops, "for": demo.sub_a})
    assert [e["code"] for e in errors] == ["NOT_A_SUB_PARTNER"]
    csv = HEADER + "for2@bulk.example,F,O,,,9002,TRUE,\n"
    data = await gateway.execute(parent, IMPORT_FOR, {"input": {"customerId": customer["id"], "csv": csv},
                                                      "for": demo.sub_a})
    assert data["importSubscribers"]["errors"] == [] and data["importSubscribers"]["batch"]["totalRows"] == 1
    async with gateway.writes_nothing():
        data = await gateway.execute(parent, IMPORT_FOR, {"input": {"customerId": customer["id"], "csv": csv},
                                                          "for": "ptn_000000000000000000000000"})
    assert [e["code"] for e in data["importSubscribers"]["errors"]] == ["NOT_A_SUB_PARTNER"]


async def test_r_bulk_1_an_upload_over_5_mib_is_413_and_one_not_text_csv_is_415(gateway: Gateway, demo: Demo
                                                                               ) -> None:
    token = partner_token(gateway, demo)
    headers = {"authorization": f"Bearer {token}", "content-type": "text/csv"}
    line = "big@bulk.example,B,I,,,1,TRUE,\n"
    big = (HEADER + line * (5 * 1024 * 1024 // len(line) + 1)).encode()
    assert len(big) > 5 * 1024 * 1024
    async with gateway.writes_nothing("an upload refused"):
        too_big = await gateway.http.post("/uploads", content=big, headers=headers)
        assert too_big.status_code == 413 and too_big.json()["errors"][0]["extensions"]["code"] == "CSV_INVALID"
        for media in ("application/json", "text/plain", "multipart/form-data; boundary=x"):
            wrong = await gateway.http.post("/uploads", content=b"email\n", headers={**headers, "content-type": media})
            assert wrong.status_code == 415, media
    exactly = await gateway.http.post("/uploads", content=big[:5 * 1024 * 1024], headers=headers)
    assert exactly.status_code == 201  # 5 MiB itself is allowed


DEMO_BATCHES = """{ customers(first: 50) { pageInfo { hasNextPage } edges { node { id
  subscriberBatches(first: 3) { totalCount edges { node {
    source status totalRows acceptedRows refusedRows skippedRows createdBy { kind }
    rows(status: refused, first: 5) { edges { node { errors { code } } } } } } } } } } }"""


async def test_r_bulk_3_the_demo_shows_a_batch_with_refused_rows_a_csv_import_and_a_cancelled_batch(
        gateway: Gateway, demo: Demo) -> None:
    """The demo's bulk scene (gateway/demo_extras/bulk.py), read as its partner reads it: every customer's batches
    on one page, as `Customer.subscriberBatches` loads them for all customers at once."""
    answer = await gateway.execute(partner_token(gateway, demo), DEMO_BATCHES)
    assert not answer["customers"]["pageInfo"]["hasNextPage"]  # every customer of the partner on this page
    found = [(e["node"], c["node"]["subscriberBatches"]["totalCount"]) for c in answer["customers"]["edges"]
             for e in c["node"]["subscriberBatches"]["edges"]]
    assert all(total >= 1 for _, total in found)
    summary = sorted((b["source"], b["status"], b["acceptedRows"], b["refusedRows"], b["skippedRows"])
                     for b, _ in found)
    assert summary == [("CSV", "completed", 4, 0, 0), ("MUTATION", "cancelled", 0, 0, 2),
                       ("MUTATION", "completed_with_errors", 3, 2, 0)]
    assert {b["createdBy"]["kind"] for b, _ in found} == {"USER"}
    refused_with = sorted(e["code"] for b, _ in found for r in b["rows"]["edges"] for e in r["node"]["errors"])
    assert refused_with == ["INVALID_EMAIL", "NOT_FOUND"]


async def test_r_bulk_3_r_add_1_a_bulk_create_and_update_with_add_ons_do_what_the_single_mutations_do(
        gateway: Gateway, demo: Demo) -> None:
    """A row is judged and written like its single mutation, add-ons included (R-ADD-1): the same subscriber, the
    same events (a status change naming the previous package, an UPDATE event with the add-ons before and after)."""
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(
        await provisioning_id(gateway, demo.partner), "BULK-ADD-1",
        packages=["webex_calling", "webex_meetings", "attendant_console"]))
    await gateway.settle()
    single = (await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer["id"], "one@add.example", extension="9201", addOns=["attendant_console"])}))["provisionSubscriber"]
    assert single["errors"] == []
    batch = await _bulk(gateway, token, customer["id"], [
        _create("two@add.example", "9202", addOns=["attendant_console"]), _create("three@add.example", "9203"),
        _create("four@add.example", "9204", addOns=["webex_meetings"])])  # not an add-on: refused like the single
    await gateway.settle()
    rows = [r["node"] for r in (await _batch(gateway, token, batch["id"]))["rows"]["edges"]]
    assert [r["status"] for r in rows] == ["accepted", "accepted", "refused"]
    db = gateway.runtime.db
    assert db is not None
    by_email = {s["email"]: s for s in await db.find("subscribers", {"customerId": customer["id"]})}
    assert by_email["two@add.example"]["addOns"] == by_email["one@add.example"]["addOns"] == ["attendant_console"]
    single_four = (await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer["id"], "four@add.example", extension="9204", addOns=["webex_meetings"])}))["provisionSubscriber"]
    assert [e["code"] for e in rows[2]["errors"]] == [e["code"] for e in single_four["errors"]]

    # The same change of add-ons, once by updateSubscriber and once by a bulk UPDATE row.
    three = by_email["three@add.example"]
    updated = (await gateway.execute(token, UPDATE_SUBSCRIBER, {"id": three["_id"], "input": {
        "package": "webex_calling", "extension": "9203", "addOns": ["attendant_console"]}}))["updateSubscriber"]
    assert updated["errors"] == []
    await _bulk(gateway, token, customer["id"], [{"action": "UPDATE", "email": "one@add.example", "addOns": []},
                                                 {"action": "UPDATE", "email": "two@add.example", "addOns": []}])
    await gateway.settle()
    by_email = {s["email"]: s for s in await db.find("subscribers", {"customerId": customer["id"]})}
    assert [by_email[e]["addOns"] for e in ("one@add.example", "two@add.example", "three@add.example")] == [
        [], [], ["attendant_console"]]

    async def history(email: str) -> list[tuple[Any, ...]]:
        found = await gateway.events(entityId=by_email[email]["_id"], action={"$in": ["STATUS_CHANGE", "UPDATE"]})
        return [(e["action"], e["fromStatus"], e["toStatus"], e["details"].get("previousPackage"),
                 [(c["field"], c["from"], c["to"]) for c in e.get("changes") or []]) for e in found]

    assert await history("two@add.example") == await history("one@add.example")
    assert [h for h in await history("one@add.example") if h[0] == "UPDATE"] == [
        ("UPDATE", "updating", "updating", None, [("addOns", '["attendant_console"]', "[]")])]
