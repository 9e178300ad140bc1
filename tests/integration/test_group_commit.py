"""Group commit (`Repositories.atomic`): units of work that queue up while one commits share a transaction.

What callers rely on is unchanged: each unit's writes and events commit, or (when it refuses) none of its own do,
whatever its neighbours in the group did; events keep one sequence in the order the units ran.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from domain.model.changes import Change, EntityType
from domain.model.errors import DomainError, ErrorCode
from domain.store.repositories import Tx
from tests.conftest import Demo, Gateway

PROBES = "group_commit_probes"


def _unit(gateway: Gateway, demo: Demo, n: int, *, refuse: bool = False) -> Any:
    async def work(tx: Tx) -> int:
        assert gateway.runtime.db is not None
        await gateway.runtime.db.collection(PROBES).insert_one({"_id": n, "at": tx.now}, session=tx.session)
        tx.record(Change(EntityType.BILLING_REPORT, f"probe-{n}", demo.partner, demo.partner, None, "IN_PROGRESS", 1))
        if refuse:
            raise DomainError.single(ErrorCode.INVALID_STATE, f"unit {n} refuses", "input")
        return n * 10

    return work


async def _probe_events(gateway: Gateway) -> list[tuple[int, str]]:
    assert gateway.runtime.db is not None
    docs = await gateway.runtime.db.find("events", {"entityId": {"$regex": "^probe-"}}, sort=[("seq", 1)])
    return [(int(d["seq"]), d["entityId"]) for d in docs]


async def test_r_evt_1_units_queued_together_commit_in_one_transaction_with_their_events_in_order(
        gateway: Gateway, demo: Demo) -> None:
    gateway.commands.commands.clear()
    gateway.commands.enabled = True
    results = await asyncio.gather(*(gateway.repos.atomic(_unit(gateway, demo, n)) for n in range(12)))
    gateway.commands.enabled = False
    assert results == [n * 10 for n in range(12)]
    # The first commits alone; the eleven that queued meanwhile share the next transaction.
    assert gateway.commands.commands.count("commitTransaction") == 2
    events = await _probe_events(gateway)
    assert [entity for _, entity in events] == [f"probe-{n}" for n in range(12)]
    seqs = [seq for seq, _ in events]
    assert seqs == list(range(seqs[0], seqs[0] + 12))  # one sequence, no gap, no repeat
    assert gateway.runtime.db is not None
    assert len(await gateway.runtime.db.find(PROBES, {})) == 12


async def test_r_evt_1_a_unit_that_refuses_writes_nothing_and_its_neighbours_still_commit(
        gateway: Gateway, demo: Demo) -> None:
    outcomes = await asyncio.gather(
        *(gateway.repos.atomic(_unit(gateway, demo, n, refuse=n == 5)) for n in range(9)), return_exceptions=True)
    refused = outcomes[5]
    assert isinstance(refused, DomainError) and "unit 5 refuses" in str(refused.errors[0].message)
    assert [o for i, o in enumerate(outcomes) if i != 5] == [n * 10 for n in range(9) if n != 5]
    assert gateway.runtime.db is not None
    assert sorted(d["_id"] for d in await gateway.runtime.db.find(PROBES, {})) == [0, 1, 2, 3, 4, 6, 7, 8]
    assert [entity for _, entity in await _probe_events(gateway)] == [f"probe-{n}" for n in range(9) if n != 5]


async def test_a_caller_cancelled_while_queued_has_its_unit_dropped_and_the_rest_commit(
        gateway: Gateway, demo: Demo) -> None:
    first = asyncio.create_task(gateway.repos.atomic(_unit(gateway, demo, 0)))
    await asyncio.sleep(0)  # the first holds the lock; the next ones queue behind it
    queued = [asyncio.create_task(gateway.repos.atomic(_unit(gateway, demo, n))) for n in range(1, 4)]
    await asyncio.sleep(0)
    queued[1].cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued[1]
    assert await first == 0
    assert [await queued[0], await queued[2]] == [10, 30]
    assert gateway.runtime.db is not None
    assert sorted(d["_id"] for d in await gateway.runtime.db.find(PROBES, {})) == [0, 1, 3]

