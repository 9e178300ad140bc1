"""Maintenance steps: the retention of the events outbox (R-EVT-2)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.model.jobs import JobKind, PurgeEvents
from domain.store.jobs import Job, JobQueue
from domain.store.repositories import Repositories

log = logging.getLogger("gateway.events")

PURGE_JOB = JobKind.PURGE_EVENTS.value  # the purge job's id: one job for all processes
PURGE_EVERY = timedelta(hours=1)
DEFAULT_RETENTION = timedelta(days=7)


@dataclass
class EventRetention:
    """Events older than `retention` are removed by a recurring job (one for all processes: its id is fixed)."""

    repos: Repositories
    queue: JobQueue
    retention: timedelta = DEFAULT_RETENTION

    def cutoff(self) -> datetime:
        return self.repos.clock.now() - self.retention

    async def schedule(self) -> None:
        """Make sure the purge job exists (idempotent; every process calls this at start-up)."""
        await self.repos.atomic(lambda tx: tx.enqueue(PurgeEvents()))

    async def purge(self) -> int:
        removed = await self.repos.events.purge(self.cutoff())
        if removed:
            log.info("retention: removed %d events older than %s", removed, self.cutoff().isoformat())
        return removed

    async def run(self, job: Job) -> None:
        await self.purge()
        await self.queue.reschedule(job, PURGE_EVERY)
