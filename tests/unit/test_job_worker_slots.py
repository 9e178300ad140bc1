"""The job worker's loop over a queue in memory: a freed slot claims the next job at once, without a poll."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, cast

from domain.model.clock import FixedClock
from domain.store.driver import Database
from domain.store.jobs import Job, JobQueue, Worker, outside_work_done
from tests.conftest import NOW


class MemoryQueue(JobQueue):
    """Due jobs in a list; counts the claims (the worker's only database command here)."""

    def __init__(self, jobs: list[Job]) -> None:
        super().__init__(cast(Database, None), FixedClock(NOW), "memory", timedelta(seconds=30))
        self.jobs = jobs
        self.claims = 0

    async def claim_next(self) -> Job | None:
        self.claims += 1
        return self.jobs.pop(0) if self.jobs else None

    async def release_leases(self) -> None:
        pass


def _jobs(n: int) -> list[Job]:
    return [Job(f"job-{i}", "probe", f"entity-{i}", {}, 1) for i in range(n)]


async def test_a_finished_job_makes_room_for_the_next_at_once_not_after_a_poll_interval() -> None:
    queue = MemoryQueue(_jobs(6))
    ran: list[str] = []
    all_ran = asyncio.Event()

    async def handler(job: Job) -> None:
        await asyncio.sleep(0.01)
        ran.append(job.id)
        if len(ran) == 6:
            all_ran.set()

    worker = Worker(queue, {"probe": handler}, concurrency=2, poll_interval=60.0)
    worker.start()
    try:
        await asyncio.wait_for(all_ran.wait(), 5)  # a poll between jobs would take a minute
    finally:
        await worker.stop()
    assert sorted(ran) == [f"job-{i}" for i in range(6)]


async def test_a_job_past_its_outside_work_lets_the_next_one_start_while_it_commits() -> None:
    queue = MemoryQueue(_jobs(2))
    committing = asyncio.Event()
    started: list[str] = []
    second = asyncio.Event()

    async def handler(job: Job) -> Any:
        started.append(job.id)
        if job.id == "job-1":
            second.set()
        if job.id == "job-0":
            outside_work_done()
            await committing.wait()  # its final transaction, held open until the second job has started

    worker = Worker(queue, {"probe": handler}, concurrency=1, poll_interval=60.0)
    worker.start()
    try:
        await asyncio.wait_for(second.wait(), 5)
        assert started == ["job-0", "job-1"]
    finally:
        committing.set()
        await worker.stop()


async def test_without_outside_work_done_one_slot_runs_one_job_at_a_time() -> None:
    queue = MemoryQueue(_jobs(2))
    release = asyncio.Event()
    started: list[str] = []
    second = asyncio.Event()

    async def handler(job: Job) -> None:
        started.append(job.id)
        if job.id == "job-1":
            second.set()
        await release.wait()

    worker = Worker(queue, {"probe": handler}, concurrency=1, poll_interval=60.0)
    worker.start()
    try:
        await asyncio.sleep(0.05)
        assert started == ["job-0"]
        release.set()
        await asyncio.wait_for(second.wait(), 5)
        assert started == ["job-0", "job-1"]
    finally:
        release.set()
        await worker.stop()
