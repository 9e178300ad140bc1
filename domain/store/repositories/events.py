"""The outbox's collection (R-EVT-1): events in `seq` order, per-tenant heads, and retention's marks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import UpdateOne

from domain.rules.filters import all_of
from domain.rules.pagination import Order
from domain.store.driver import Document
from domain.store.repositories.base import Repository

EVENTS = "events"
COUNTERS = "counters"
EVENT_COUNTER_ID = "events"
# Per owner org, the newest `seq` retention removed: heads and CURSOR_EXPIRED stay exact per tenant (R-ORG-6).
PURGED = "events_purged"
# The order of every event list and feed: commit order.
EVENT_ORDER = Order("events", (("seq", 1), ("_id", 1)))


class EventRepository(Repository):
    """The outbox (R-EVT-1): read in `seq` order, which is commit order across processes."""

    collection = EVENTS

    async def head(self) -> int:
        """The `seq` of the newest committed event (0 before the first); survives the purge of old events."""
        counter = await self.db.collection(COUNTERS).find_one({"_id": EVENT_COUNTER_ID})
        return int(counter["seq"]) if counter else 0

    async def after(self, filter: Mapping[str, Any], seq: int, limit: int) -> list[Document]:
        """Up to `limit` events matching `filter` committed after `seq`, oldest first."""
        return await self.db.find(self.collection, all_of(filter, {"seq": {"$gt": seq}}),
                                  sort=[("seq", 1)], limit=limit)

    async def head_of(self, scope: Mapping[str, Any]) -> int:
        """The `seq` of the newest event matching the owner filter `scope`, also once retention removed it (0: none).

        Nothing but events matching `scope` decides it: other tenants' work neither moves it nor shows in it.
        """
        newest = await self.db.find(self.collection, scope, sort=[("seq", -1)], limit=1, projection={"seq": 1})
        purged = await self.db.find(PURGED, scope, sort=[("seq", -1)], limit=1, projection={"seq": 1})
        return max((int(d["seq"]) for d in newest + purged), default=0)

    async def expired(self, seq: int, scope: Mapping[str, Any], older_than: datetime | None = None) -> bool:
        """Whether events matching the owner filter `scope` committed after `seq` were removed by retention or,
        with `older_than`, occurred before it (R-EVT-2's CURSOR_EXPIRED: a subscription resumes only within its
        window): only the reader's own events count, never other tenants'."""
        after = all_of(scope, {"seq": {"$gt": seq}})
        lost = await self.db.collection(PURGED).find_one(after, projection={"_id": 1})
        if lost is not None or older_than is None:
            return lost is not None
        stale = await self.db.collection(self.collection).find_one(
            all_of(after, {"occurredAt": {"$lt": older_than}}), projection={"_id": 1})
        return stale is not None

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
