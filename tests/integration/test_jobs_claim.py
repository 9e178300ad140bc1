"""Claiming the next due job in one command, and what one customer's settling costs in transactions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from domain.model.jobs import JobCommand, JobKind
from domain.store.jobs import JobQueue
from domain.store.repositories import Tx
from domain.store.repositories.jobs import JOBS, RUNNING
from tests.api.provisioning import current, customer_input, partner_token, provision, provisioning_id
from tests.conftest import Demo, Gateway


@dataclass(frozen=True)
class _Probe(JobCommand):
    """A job of the test's id and time (no worker runs: the tests claim by hand)."""

    kind: ClassVar[JobKind] = JobKind.SETTLE_CUSTOMER
    id: str = "job-1"
    at: datetime | None = None

    @property
    def job_id(self) -> str:
        return self.id

    @property
    def run_at(self) -> datetime | None:
        return self.at


async def _enqueue(gateway: Gateway, *commands: JobCommand) -> None:
    async def write(tx: Tx) -> None:
        for command in commands:
            await tx.enqueue(command)

    await gateway.repos.atomic(write)


def _queue(gateway: Gateway, owner: str, lease_s: float = 30) -> JobQueue:
    assert gateway.runtime.db is not None
    return JobQueue(gateway.runtime.db, gateway.clock, owner, timedelta(seconds=lease_s))


async def test_claim_next_leases_the_earliest_due_job_and_nothing_before_its_time(gateway: Gateway) -> None:
    now = gateway.clock.now()
    await _enqueue(gateway, _Probe("e-late", "late", at=now + timedelta(seconds=5)),
                   _Probe("e-first", "first", at=now - timedelta(seconds=2)),
                   _Probe("e-second", "second", at=now - timedelta(seconds=1)))
    queue = _queue(gateway, "w1")
    first, second = await queue.claim_next(), await queue.claim_next()
    assert first is not None and second is not None
    assert (first.id, second.id, first.attempts) == ("first", "second", 1)
    assert await queue.claim_next() is None  # "late" is not due yet
    db = gateway.runtime.db
    assert db is not None
    [doc] = await db.find(JOBS, {"_id": "first"})
    assert doc["status"] == RUNNING and doc["leaseOwner"] == "w1"
    gateway.clock.advance(timedelta(seconds=6))
    late = await queue.claim_next()
    assert late is not None and late.id == "late"


async def test_claim_next_takes_over_an_expired_lease_and_each_job_goes_to_one_claimer(gateway: Gateway) -> None:
    await _enqueue(gateway, *(_Probe(f"e-{i}", f"job-{i}") for i in range(3)))
    slow = _queue(gateway, "slow", lease_s=5)
    held = await slow.claim_next()
    assert held is not None
    gateway.clock.advance(timedelta(seconds=6))  # its lease expired: the job is due again, for anyone
    queues = [_queue(gateway, f"w{i}") for i in range(6)]
    claimed: list[str] = []
    for _ in range(3):  # concurrent claimers: a conflict is reported, never a job claimed twice
        for outcome in await asyncio.gather(*(q.claim_next() for q in queues), return_exceptions=True):
            if not isinstance(outcome, BaseException) and outcome is not None:
                claimed.append(outcome.id)
    assert sorted(claimed) == ["job-0", "job-1", "job-2"]
    db = gateway.runtime.db
    assert db is not None
    [taken] = await db.find(JOBS, {"_id": held.id})
    assert taken["leaseOwner"] != "slow" and taken["attempts"] == 2


async def test_a_customer_screened_clear_is_settled_in_one_transaction_after_its_claim(
        gateway: Gateway, demo: Demo) -> None:
    token = partner_token(gateway, demo)
    await gateway.settle()  # the demo's own queued work first
    customer = await provision(gateway, token, customer_input(await provisioning_id(gateway, demo.partner)))
    gateway.commands.commands.clear()
    gateway.commands.enabled = True
    await gateway.settle()
    gateway.commands.enabled = False
    # The claim's transaction, one for the screening and the outcome together (they were two, each writing the
    # customer), and the claim that finds nothing left.
    assert gateway.commands.targets.count("update customers") == 1
    assert gateway.commands.commands.count("commitTransaction") == 3
    after = await current(gateway, token, customer["id"])
    assert after["status"] == "provisioned"
    assert after["compliance"]["state"] == "clear"


async def test_every_lease_a_dead_worker_left_is_taken_over_by_consecutive_claims(gateway: Gateway) -> None:
    """Expired leases are looked for every tenth of a lease, but one found means the next claim looks at once:
    a killed worker leaves several, and they must not wait a tenth of a lease each."""
    await _enqueue(gateway, *(_Probe(f"e-{i}", f"dead-{i}") for i in range(3)))
    dead = _queue(gateway, "dead", lease_s=5)
    assert [await dead.claim_next() for _ in range(3)] != [None, None, None]
    gateway.clock.advance(timedelta(seconds=6))
    heir = _queue(gateway, "heir")
    taken = [await heir.claim_next() for _ in range(3)]  # the clock does not move between them
    assert sorted(job.id for job in taken if job is not None) == ["dead-0", "dead-1", "dead-2"]
    assert await heir.claim_next() is None
