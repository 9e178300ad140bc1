"""Storage of each entity over MongoDB; the only place that writes Mongo queries."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pymongo import ReturnDocument

from domain.clock import Clock
from domain.driver import Database, Document, Session
from domain.events import COUNTERS, EVENT_COUNTER_ID, EVENTS, Change
from domain.repositories.base import Repository
from domain.repositories.billing import BillingReportRepository, BillingRowRepository, UsageRepository
from domain.repositories.customers import CustomerRepository
from domain.repositories.locations import LocationRepository
from domain.repositories.partners import PartnerRepository
from domain.repositories.rpl import RplRepository
from domain.repositories.subscribers import SubscriberRepository
from domain.repositories.templates import TemplateRepository

T = TypeVar("T")


class EventRepository(Repository):
    """The outbox (R-EVT-1): read in `seq` order, which is commit order across processes."""

    collection = EVENTS

    async def head(self) -> int:
        """The `seq` of the newest committed event (0 before the first); survives the purge of old events."""
        counter = await self.db.collection(COUNTERS).find_one({"_id": EVENT_COUNTER_ID})
        return int(counter["seq"]) if counter else 0

    async def after(self, filter: Mapping[str, Any], seq: int, limit: int) -> list[Document]:
        """Up to `limit` events matching `filter` committed after `seq`, oldest first."""
        return await self.db.find(self.collection, {"$and": [dict(filter), {"seq": {"$gt": seq}}]},
                                  sort=[("seq", 1)], limit=limit)

    async def expired(self, seq: int) -> bool:
        """Whether a reader positioned after `seq` has lost events to retention (R-EVT-2's CURSOR_EXPIRED).

        Seqs are contiguous and the purge removes the oldest first, so the reader's own event (or, at the very
        start, the first event) being gone while it once existed means the events right after it may be gone too.
        """
        probe = max(seq, 1)
        if await self.db.collection(self.collection).find_one({"seq": probe}, projection={"_id": 1}):
            return False
        return probe <= await self.head()

    async def purge(self, before: datetime) -> int:
        """Retention: remove the events that occurred before `before`; returns how many."""
        result = await self.db.collection(self.collection).delete_many({"occurredAt": {"$lt": before}})
        return int(result.deleted_count)


def process_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Tx:
    """An open transaction: the session to pass to every write, its time, and the changes it records."""

    session: Session
    now: datetime
    changes: list[Change] = field(default_factory=list)

    def record(self, change: Change) -> None:
        self.changes.append(change)


@dataclass
class Repositories:
    db: Database
    clock: Clock
    partners: PartnerRepository
    templates: TemplateRepository
    customers: CustomerRepository
    locations: LocationRepository
    subscribers: SubscriberRepository
    rpl: RplRepository
    events: EventRepository
    billing_reports: BillingReportRepository
    billing_rows: BillingRowRepository
    usage: UsageRepository
    # Which process wrote an event (kept on the event, for operators and the multi-process tests).
    process: str = field(default_factory=process_identity)
    # Serialises this process's transactions (see `atomic`).
    commit_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    # Called after every commit that may have created jobs (wakes this process's worker at once).
    after_commit: Callable[[], None] | None = field(default=None, repr=False)

    async def atomic(self, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` in one transaction together with the events it records (R-EVT-1).

        The whole of it is retried on a transient conflict, so `work` must be a pure function of
        what it reads inside the transaction. A DomainError raised by `work` aborts it: nothing is
        written.
        """
        current: list[Tx] = []

        async def body(session: Session) -> T:
            tx = Tx(session, self.clock.now())
            current[:] = [tx]
            return await work(tx)

        async def stamp_events(session: Session) -> None:
            tx = current[0]
            if not tx.changes:
                return
            counter = await self.db.collection(COUNTERS).find_one_and_update(
                {"_id": EVENT_COUNTER_ID}, {"$inc": {"seq": len(tx.changes)}}, upsert=True,
                return_document=ReturnDocument.AFTER, session=session)
            first = counter["seq"] - len(tx.changes) + 1
            docs = [c.to_doc(first + i, tx.now, self.process) for i, c in enumerate(tx.changes)]
            await self.db.collection(EVENTS).insert_many(docs, session=session)

        # The whole transaction runs under this process's lock, not just the counter increment: a transaction
        # whose snapshot predates another's commit of the counter could never increment it (write conflict,
        # retried again and again). Other processes still conflict now and then; those are retried.
        async with self.commit_lock:
            result = await self.db.run_transaction(body, tail=stamp_events)
        if self.after_commit is not None:
            self.after_commit()
        return result

    @classmethod
    def over(cls, db: Database, clock: Clock) -> Repositories:
        return cls(
            db=db,
            clock=clock,
            partners=PartnerRepository(db),
            templates=TemplateRepository(db),
            customers=CustomerRepository(db),
            locations=LocationRepository(db),
            subscribers=SubscriberRepository(db),
            rpl=RplRepository(db),
            events=EventRepository(db),
            billing_reports=BillingReportRepository(db),
            billing_rows=BillingRowRepository(db),
            usage=UsageRepository(db),
        )
