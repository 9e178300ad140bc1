"""The job documents (`jobs`): written by a unit of work in its transaction, leased by the queue's workers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.model.audit import current_actor, system_actor
from domain.model.jobs import JobCommand
from domain.store.driver import Database, Document, Session

JOBS = "jobs"
READY, RUNNING, WAITING = "ready", "running", "waiting"


class JobDocuments:
    """Creating, cancelling and releasing jobs inside a transaction (the queue itself is `domain.store.jobs`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def enqueue(self, command: JobCommand, now: Any, session: Session) -> None:
        """Create the command's job; a job id that already exists is left as it is."""
        doc = {
            "kind": command.kind.value, "entityId": command.entity_id, "payload": dict(command.payload),
            "status": WAITING if command.wait_for else READY, "waitFor": command.wait_for,
            "runAt": command.run_at or now, "attempts": 0, "leaseOwner": None, "leaseUntil": None, "createdAt": now,
            # R-AUD-1: a background step keeps the actor of the request that asked for it; a timer acts as itself.
            "actor": (system_actor(command.timer) if command.timer else current_actor()).to_doc(),
        }
        await self.db.collection(JOBS).update_one({"_id": command.job_id}, {"$setOnInsert": doc}, upsert=True,
                                                  session=session)

    async def of_entities(self, entity_ids: Sequence[str]) -> dict[str, list[Document]]:
        """The jobs of each entity now (R-DASH-2), in one query; finished jobs have left the collection."""
        found: dict[str, list[Document]] = {}
        for doc in await self.db.find(JOBS, {"entityId": {"$in": list(set(entity_ids))}}, sort=[("runAt", 1)]):
            found.setdefault(doc["entityId"], []).append(doc)
        return found

    async def cancel(self, job_id: str, session: Session) -> None:
        await self.db.collection(JOBS).delete_one({"_id": job_id}, session=session)

    async def release_waiting(self, wait_for: str, now: Any, session: Session) -> None:
        """Make every job parked on `wait_for` due now (in the transaction that settles it)."""
        await self.db.collection(JOBS).update_many(
            {"status": WAITING, "waitFor": wait_for},
            {"$set": {"status": READY, "runAt": now, "waitFor": None}}, session=session)
