"""The durable job queue over the real database: leases, takeover, retries with backoff, timers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

import pytest

from domain.model.jobs import JobCommand, JobKind
from domain.store.engine import Fault, FaultRule
from domain.store.jobs import Job, JobQueue, LeaseLost
from domain.store.repositories import Tx
from domain.store.repositories.jobs import JOBS, READY
from tests.api.provisioning import current, customer_input, partner_token, provision, provisioning_id
from tests.conftest import Demo, Gateway


@dataclass(frozen=True)
class _Probe(JobCommand):
    """A job with an id of the test's choosing (no worker runs here: the tests drive the queue by hand)."""

    kind: ClassVar[JobKind] = JobKind.SETTLE_CUSTOMER
    id: str = "job-1"

    @property
    def job_id(self) -> str:
        return self.id


async def _queued(gateway: Gateway, job_id: str = "job-1") -> None:
    async def write(tx: Tx) -> None:
        await tx.enqueue(_Probe("entity-1", job_id))

    await gateway.repos.atomic(write)


def _queue(gateway: Gateway, owner: str, lease_s: float = 30) -> JobQueue:
    assert gateway.runtime.db is not None
    return JobQueue(gateway.runtime.db, gateway.clock, owner, timedelta(seconds=lease_s))


async def test_only_one_of_many_workers_claims_a_job(gateway: Gateway) -> None:
    await _queued(gateway)
    queues = [_queue(gateway, f"w{i}") for i in range(8)]
    [doc] = await queues[0].due(10)
    claims = await asyncio.gather(*(q.claim(doc) for q in queues))
    assert sum(c is not None for c in claims) == 1


async def test_an_expired_lease_is_taken_over_and_the_old_holder_cannot_commit(gateway: Gateway) -> None:
    await _queued(gateway)
    slow, other = _queue(gateway, "slow", lease_s=5), _queue(gateway, "other")
    [doc] = await slow.due(10)
    job = await slow.claim(doc)
    assert job is not None
    assert await other.due(10) == []  # leased: not due for anyone else
    gateway.clock.advance(timedelta(seconds=6))
    [expired] = await other.due(10)
    taken = await other.claim(expired)
    assert taken is not None and taken.attempts == 2

    async def late_commit(tx: Tx) -> None:
        await gateway.repos.customers.set_fields("cus_x", {"touched": True}, session=tx.session)
        await slow.finish(tx, job)

    with pytest.raises(LeaseLost):
        await gateway.repos.atomic(late_commit)
    db = gateway.runtime.db
    assert db is not None
    assert await db.find("customers", {"_id": "cus_x"}) == []  # nothing of the late commit is visible
    [still] = await db.find(JOBS, {})
    assert still["leaseOwner"] == "other"


async def test_enqueueing_the_same_job_id_twice_keeps_one_job(gateway: Gateway) -> None:
    await _queued(gateway, "same")
    await _queued(gateway, "same")
    db = gateway.runtime.db
    assert db is not None
    assert [d["_id"] for d in await db.find(JOBS, {})] == ["same"]


async def test_a_temporary_webex_failure_is_retried_with_backoff(gateway: Gateway, demo: Demo) -> None:
    gateway.runtime.engine.rules.append(FaultRule(Fault.TRANSIENT, "FLAKY-"))
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner),
                                                              "FLAKY-1"))
    await gateway.settle()
    db = gateway.runtime.db
    assert db is not None
    [job] = await db.find(JOBS, {"entityId": customer["id"]})
    assert job["status"] == READY and job["attempts"] == 1 and "503" in job["lastError"]
    assert job["runAt"] > gateway.clock.now()  # backed off, not hammering the Webex side
    assert (await current(gateway, token, customer["id"]))["status"] == "provisioning"
    # Each Webex-side step fails once (org, then each package): the job comes back until all went through.
    for _ in range(10):
        gateway.clock.advance(timedelta(minutes=1))
        await gateway.settle()
        if (await current(gateway, token, customer["id"]))["status"] != "provisioning":
            break
    assert (await current(gateway, token, customer["id"]))["status"] == "provisioned"
    assert await db.find(JOBS, {"entityId": customer["id"]}) == []  # finished jobs leave the queue


async def test_org_creation_failure_ends_in_error_and_fails_waiting_subscribers(gateway: Gateway, demo: Demo) -> None:
    from tests.api.provisioning import PROVISION_SUBSCRIBER, SUBSCRIBER, subscriber_input

    gateway.runtime.engine.rules.append(FaultRule(Fault.ORG_CREATE_FAILURE, "NOORG-"))
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner),
                                                              "NOORG-1"))
    sub = (await gateway.execute(token, PROVISION_SUBSCRIBER, {"input": subscriber_input(
        customer["id"], "waiting@x.example")}))["provisionSubscriber"]["subscriber"]
    await gateway.settle()
    after = await current(gateway, token, customer["id"])
    assert after["status"] == "error" and [e["code"] for e in after["errors"]] == ["ORG_CREATE_FAILED"]
    subscriber = (await gateway.execute(token, SUBSCRIBER, {"id": sub["id"]}))["subscriber"]
    assert subscriber["status"] == "error" and [e["code"] for e in subscriber["errors"]] == ["ORG_CREATE_FAILED"]


async def test_a_job_that_keeps_failing_is_given_up_and_its_customer_ends_in_error(
        gateway: Gateway, demo: Demo) -> None:
    worker = gateway.runtime.worker
    assert worker is not None
    token = partner_token(gateway, demo)
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))

    async def broken(job: Job) -> None:
        raise RuntimeError("the Webex side answers garbage")

    original = dict(worker.handlers)
    worker.handlers = {**original, "customer.settle": broken}
    for _ in range(worker.max_attempts):
        await gateway.settle()
        gateway.clock.advance(timedelta(minutes=2))
    worker.handlers = original
    await gateway.settle()
    after = await current(gateway, token, customer["id"])
    assert after["status"] == "error" and after["errors"][0]["code"] == "INTERNAL"
    db = gateway.runtime.db
    assert db is not None
    assert await db.find(JOBS, {"entityId": customer["id"]}) == []
