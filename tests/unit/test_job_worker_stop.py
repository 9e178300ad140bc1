"""Stopping the job worker while a commit wakes it: the stop is never lost (Python 3.11's `asyncio.wait_for`
returns the result of a wait that finished in the same moment as a cancellation, swallowing the cancellation;
the worker's loop then waited on, and the gateway's shutdown hung until it was killed)."""

from __future__ import annotations

import asyncio

import pytest

from domain.store import background
from domain.store.background import BackgroundTask, wait_set
from domain.store.jobs import Worker
from tests.unit.test_job_worker_slots import MemoryQueue


async def test_a_stop_that_arrives_with_a_wake_up_stops_the_idle_worker() -> None:
    # The cancellation must land in each of the few loop turns between the wake-up and the loop seeing it.
    for turns in range(8):
        queue = MemoryQueue([])
        worker = Worker(queue, {}, concurrency=1, poll_interval=60.0)
        worker.start()
        for _ in range(3):
            await asyncio.sleep(0)
        assert queue.claims == 1  # idle: it claimed, found nothing, and waits for a wake-up
        worker.wake()  # a commit of this process, say
        for _ in range(turns):
            await asyncio.sleep(0)
        stopping = asyncio.create_task(worker.stop())
        done, _ = await asyncio.wait({stopping}, timeout=2.0)
        assert stopping in done, f"the worker ignored a stop {turns} loop turns after a wake-up"
        assert not worker.running


async def test_a_task_that_swallows_a_cancellation_is_cancelled_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "RECANCEL_AFTER_S", 0.05)
    cancellations = 0

    async def stubborn() -> None:
        nonlocal cancellations
        while True:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancellations += 1
                if cancellations == 1:
                    continue  # as a wait that drops a cancellation would
                raise

    task = BackgroundTask(stubborn, "stubborn")
    task.start()
    await asyncio.sleep(0)
    await asyncio.wait_for(task.stop(), 5)
    assert cancellations == 2 and not task.running


async def test_cancelling_whoever_stops_a_task_cancels_them_too() -> None:
    release = asyncio.Event()

    async def slow_to_stop() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            await release.wait()  # cleaning up

    task = BackgroundTask(slow_to_stop, "slow")
    task.start()
    await asyncio.sleep(0)
    stopping = asyncio.create_task(task.stop())
    await asyncio.sleep(0.01)
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping  # the stopper's own cancellation is not swallowed
    release.set()
    await task.stop()
    assert not task.running


async def test_wait_set_says_whether_the_event_came() -> None:
    event = asyncio.Event()
    assert await wait_set(event, 0.01) is False
    event.set()
    assert await wait_set(event, 0.01) is True
