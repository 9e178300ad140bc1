"""Maintenance steps: the retention of the events outbox (R-EVT-2 amended 2026-12, R-AUD-2).

Events are the history of every entity (R-AUD-2): they are kept at least five years, then removed by a recurring
job. The 7-day window of R-EVT-2 is not a retention any more: it only limits how far back a subscription may
resume (`EventHub.cursor_lifetime`, CURSOR_EXPIRED); queries read the whole history.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.model.jobs import JobKind, PurgeEvents
from domain.rules.notifications import KEPT_FOR as NOTIFICATIONS_KEPT_FOR
from domain.store.jobs import Job, JobQueue
from domain.store.repositories import Repositories

log = logging.getLogger("gateway.events")

PURGE_JOB = JobKind.PURGE_EVENTS.value  # the purge job's id: one job for all processes
PURGE_EVERY = timedelta(hours=1)
# R-AUD-2: at least five years, whatever the leap days (5 times 366 days); then purged (decision: not kept forever).
HISTORY_RETENTION = timedelta(days=5 * 366)
DEFAULT_RETENTION = HISTORY_RETENTION


@dataclass
class EventRetention:
    """Events older than `retention` (≥ 5 years) are removed by a recurring job (one for all processes: its id
    is fixed); a cursor after removed events of its reader is then CURSOR_EXPIRED for queries too."""

    repos: Repositories
    queue: JobQueue
    retention: timedelta = DEFAULT_RETENTION

    def __post_init__(self) -> None:
        if self.retention < HISTORY_RETENTION:
            raise ValueError(f"events are history (R-AUD-2): kept at least {HISTORY_RETENTION.days} days")

    def cutoff(self) -> datetime:
        return self.repos.clock.now() - self.retention

    async def schedule(self) -> None:
        """Make sure the purge job exists (idempotent; every process calls this at start-up)."""
        await self.repos.atomic(lambda tx: tx.enqueue(PurgeEvents()))

    async def purge(self) -> int:
        # R-NOT-2: the email outbox is kept 30 days (the same hourly job removes what is older).
        await self.repos.notifications.purge(self.repos.clock.now() - NOTIFICATIONS_KEPT_FOR)
        removed = await self.repos.events.purge(self.cutoff())
        if removed:
            log.info("retention: removed %d events older than %s", removed, self.cutoff().isoformat())
        return removed

    async def run(self, job: Job) -> None:
        await self.purge()
        await self.queue.reschedule(job, PURGE_EVERY)
