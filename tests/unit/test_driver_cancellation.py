"""PyMongo's async client keeps its internal locks consistent when a waiting task is cancelled (no database needed).

The deadlock after a database outage (tests/e2e/test_faults.py): on Python 3.11, a task cancelled while its timed-out
wait on one of PyMongo's conditions re-acquired the lock released a lock it did not hold, and the driver's orphaned
wait then held that lock forever. `domain.store.driver.make_pymongo_condition_waits_cancellation_safe` (applied by
every PyMongo `Database`) removes the cause; these tests drive PyMongo's own condition and wait function through the
exact interleaving.
"""

from __future__ import annotations

import asyncio

import pymongo.asynchronous.pool
import pymongo.asynchronous.topology
import pytest
from pymongo.lock import _async_cond_wait, _async_create_condition, _async_create_lock

from domain.store.driver import make_pymongo_condition_waits_cancellation_safe

BOUND_S = 2.0  # a failure bound: a free lock is taken at once


async def cancelled_while_reacquiring() -> tuple[BaseException | None, bool]:
    """A task waits on a PyMongo condition with a timeout; when the timeout fires another task holds the lock, and
    the waiting task is cancelled then. Returns what the holder ran into and whether the lock is free afterwards."""
    lock = _async_create_lock()
    condition = _async_create_condition(lock)
    resume = asyncio.Event()

    async def waiter() -> None:
        async with condition:
            await _async_cond_wait(condition, 0.05)

    async def holder() -> None:
        await asyncio.sleep(0.02)
        async with condition:  # taken while the waiter waits; still held when the waiter's timeout fires
            await resume.wait()
            async with asyncio.timeout(0.01):  # (Condition.wait checks that the lock is held before it waits)
                await condition.wait()

    waiting = asyncio.create_task(waiter())
    holding = asyncio.create_task(holder())
    await asyncio.sleep(0.1)  # the waiter's timeout fired; it now waits for the holder to let the lock go
    waiting.cancel()
    resume.set()  # the holder runs in the same turn of the loop as the cancelled waiter
    outcomes = await asyncio.gather(waiting, holding, return_exceptions=True)
    assert isinstance(outcomes[0], asyncio.CancelledError), outcomes[0]
    holder_error = outcomes[1] if isinstance(outcomes[1], BaseException) else None
    try:
        async with asyncio.timeout(BOUND_S):
            await lock.acquire()
        lock.release()
        free = True
    except TimeoutError:
        free = False
    return holder_error, free


async def test_a_wait_cancelled_while_it_reacquires_the_lock_leaves_the_lock_consistent() -> None:
    assert make_pymongo_condition_waits_cancellation_safe()
    holder_error, free = await cancelled_while_reacquiring()
    assert holder_error is None, f"the holder lost the lock it held: {holder_error!r}"
    assert free, "the lock is held by no task (the deadlock after an outage)"


def test_the_driver_waits_on_its_topology_and_pool_conditions_with_the_wait_made_safe() -> None:
    # Server selection and connection checkout wait through this very function (the test above exercises it).
    for module in (pymongo.asynchronous.topology, pymongo.asynchronous.pool):
        assert getattr(module, "_async_cond_wait") is _async_cond_wait, module.__name__  # noqa: B009


@pytest.mark.parametrize("calls", [1, 2])
def test_making_the_waits_safe_is_idempotent(calls: int) -> None:
    assert all(make_pymongo_condition_waits_cancellation_safe() for _ in range(calls))
