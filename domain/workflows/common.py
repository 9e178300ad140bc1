"""What every background step shares: finishing a job that has nothing left to do, and the stale-entity signal.

Each step looks at the entity's *current* state and does the next thing it needs, so running a job twice (after a
crash or a lost lease) does no harm: the Webex-side steps are idempotent, and the final transaction re-reads the
entity and only writes if it is still in the state the step started from (and if this worker still holds the
job's lease).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.store.jobs import Job, JobQueue
from domain.store.repositories import Repositories, Tx


class Stale(Exception):
    """The entity changed while the step ran; the job ends and the newer operation's job takes over."""


@dataclass
class Steps:
    repos: Repositories
    queue: JobQueue

    async def finish_only(self, job: Job) -> None:
        """End a job that has nothing (left) to do."""
        async def write(tx: Tx) -> None:
            await self.queue.finish(tx, job)

        await self.repos.atomic(write)
