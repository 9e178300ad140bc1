"""Storage of each entity over MongoDB; the only place that writes Mongo queries."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from pymongo import ReturnDocument, UpdateOne

from domain.clock import Clock
from domain.driver import Database, Document, Session
from domain.events import COUNTERS, EVENT_COUNTER_ID, EVENTS, PURGED, Change
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

    async def head_of(self, scope: Mapping[str, Any]) -> int:
        """The `seq` of the newest event matching the owner filter `scope`, also once retention removed it (0: none).

        Nothing but events matching `scope` decides it: other tenants' work neither moves it nor shows in it.
        """
        newest = await self.db.find(self.collection, scope, sort=[("seq", -1)], limit=1, projection={"seq": 1})
        purged = await self.db.find(PURGED, scope, sort=[("seq", -1)], limit=1, projection={"seq": 1})
        return max((int(d["seq"]) for d in newest + purged), default=0)

    async def expired(self, seq: int, scope: Mapping[str, Any]) -> bool:
        """Whether retention removed events matching the owner filter `scope` committed after `seq` (R-EVT-2's
        CURSOR_EXPIRED): only the reader's own events count, never what was removed of other tenants'."""
        lost = await self.db.collection(PURGED).find_one({"$and": [dict(scope), {"seq": {"$gt": seq}}]},
                                                         projection={"_id": 1})
        return lost is not None

    async def purge(self, before: datetime) -> int:
        """Retention: remove the events that occurred before `before`; returns how many.

        First records, per owner org, the newest `seq` about to go (`PURGED`), then removes no event beyond what
        it recorded.
        """
        old = {"occurredAt": {"$lt": before}}
        marks = await self.db.aggregate(self.collection, [
            {"$match": old},
            {"$group": {"_id": "$ownerOrgId", "rootOrgId": {"$first": "$rootOrgId"}, "seq": {"$max": "$seq"}}}])
        if not marks:
            return 0
        await self.db.collection(PURGED).bulk_write([
            UpdateOne({"_id": m["_id"]}, {"$max": {"seq": m["seq"]},
                                          "$set": {"ownerOrgId": m["_id"], "rootOrgId": m["rootOrgId"]}}, upsert=True)
            for m in marks], ordered=False)
        last = max(int(m["seq"]) for m in marks)
        result = await self.db.collection(self.collection).delete_many({**old, "seq": {"$lte": last}})
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
