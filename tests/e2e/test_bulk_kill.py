"""End to end: a subscriber import survives a SIGKILL of its gateway mid-way, every row applied exactly once (R-BULK-3).

A real `gateway serve` process imports 600 rows (an upload, then `importSubscribers`); once the batch has committed
some chunks but not all, the process is SIGKILLed (its whole process group, as a crash would). A new process on the
same database takes the batch's job over when the dead one's lease expires and finishes it. State is read straight
from the database. Deadlines are failure bounds, never timing assertions.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from typing import Any

import httpx
import pytest

from gateway.processes import DatabaseProcess
from tests.api.provisioning import PROVISION, customer_input
from tests.e2e.test_provisioning_processes import Cluster, onboard, wait_until_provisioned

pytestmark = pytest.mark.e2e

ROWS = 600
# A kill inside a chunk's transaction leaves it open on the server, holding the batch's document, until the new
# gateway's session reaper ends it: once the dead one's heartbeat is GATEWAY_SESSION_STALE_SECONDS old (without the
# reaper, the server's 60 s transaction lifetime).
FINISH_DEADLINE_S = 240.0
POLL_S = 0.02
ENV = {"GATEWAY_WORKERS": "2", "GATEWAY_ENGINE_LATENCY_MS": "0", "GATEWAY_SESSION_STALE_SECONDS": "4"}
IMPORT = """mutation($input: SubscriberImportInput!) {
  importSubscribers(input: $input) { batch { id totalRows status } errors { code message field } } }"""
FINISHED = ("completed", "completed_with_errors", "failed", "cancelled")


def emails() -> list[str]:
    return [f"k{i:03d}@kill.example" for i in range(ROWS)]


async def test_r_bulk_3_an_import_killed_mid_way_is_finished_by_the_next_gateway_each_row_once(
        own_cluster: tuple[Cluster, DatabaseProcess]) -> None:
    """On a database server of the test's own (tests/e2e/conftest.py): nothing to drop afterwards, which on the
    shared server takes longer than the test itself for 600 subscribers and their events."""
    cluster, _ = own_cluster
    first = await cluster.gateway(**ENV)
    tenant = await onboard(first)
    created = await first.execute(tenant.token, PROVISION,
                                  {"input": customer_input(tenant.provisioning_id, "E2E-BULK-1")})
    customer_id: str = created["provisionCustomer"]["customer"]["id"]
    await wait_until_provisioned(first, tenant.token, customer_id)

    csv = "email,firstName,lastName,location,phoneNumber,extension,webex_calling\n" + "".join(
        f"{email},Kill,Row {i},,,{30000 + i},TRUE\n" for i, email in enumerate(emails()))
    async with httpx.AsyncClient(timeout=60.0) as http:
        upload = await http.post(f"{first.url}/uploads", content=csv.encode(),
                                 headers={"authorization": f"Bearer {tenant.token}", "content-type": "text/csv"})
    assert upload.status_code == 201, upload.text
    answer = (await first.execute(tenant.token, IMPORT, {"input": {
        "customerId": customer_id, "uploadId": upload.json()["uploadId"]}}))["importSubscribers"]
    assert answer["errors"] == [] and answer["batch"]["totalRows"] == ROWS, answer
    batch_id: str = answer["batch"]["id"]

    async def batch() -> dict[str, Any]:
        [doc] = await cluster.db.find("subscriber_batches", {"_id": batch_id})
        return doc

    loop = asyncio.get_running_loop()
    deadline = loop.time() + FINISH_DEADLINE_S
    while int((await batch())["processedRows"]) == 0:
        assert loop.time() < deadline, "the import did not start"
        await asyncio.sleep(POLL_S)
    first.kill()
    assert await first.wait() == -signal.SIGKILL
    at_kill = await batch()
    committed = int(at_kill["processedRows"])
    assert 0 < committed < ROWS and at_kill["status"] == "running", f"not killed mid-import: {at_kill}"

    second = await cluster.gateway(**ENV)
    while (done := await batch())["status"] not in FINISHED:
        assert loop.time() < deadline, f"the import did not finish after the restart: {done}"
        await asyncio.sleep(0.2)

    # Every row ended exactly once: accepted, one subscriber per email, one creation event per subscriber.
    assert (done["status"], done["processedRows"], done["acceptedRows"], done["refusedRows"]) == (
        "completed", ROWS, ROWS, 0), done
    rows = await cluster.db.find("subscriber_batch_rows", {"batchId": batch_id})
    assert len(rows) == ROWS and Counter(r["status"] for r in rows) == Counter({"accepted": ROWS})
    subscribers = await cluster.db.find("subscribers", {"customerId": customer_id})
    assert sorted(s["email"] for s in subscribers) == emails()
    assert sorted(r["subscriberId"] for r in rows) == sorted(s["_id"] for s in subscribers)
    created_events = await cluster.db.find("events", {"entityType": "SUBSCRIBER", "fromStatus": None,
                                                      "details.batchId": batch_id})
    assert sorted(e["entityId"] for e in created_events) == sorted(s["_id"] for s in subscribers)
    progress = await cluster.db.find("events", {"entityId": batch_id, "action": "PROGRESS"}, sort=[("seq", 1)])
    assert [e["details"]["processedRows"] for e in progress] == list(range(100, ROWS + 1, 100))
    # The chunks before the kill were committed by the first process, the rest by the second.
    workers = [e.get("worker") for e in progress]
    assert len(set(workers)) == 2, workers
    print(f"\n[bulk kill] SIGKILL with {committed} of {ROWS} rows committed; the new gateway (pid {second.pid}) "
          f"finished the other {ROWS - committed}")
