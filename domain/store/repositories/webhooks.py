"""Storage of webhook endpoints and their deliveries (DOMAIN.md §13, R-NOT-7…10).

An endpoint document is `WebhookEndpoint.to_doc()` plus the sender's lease (`leaseUntil`, `leaseOwner`): one
sender at a time works on an endpoint, so its deliveries go one at a time, in commit order, across processes.
User writes `$set` the model's fields (never replace the document), so they leave a lease in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from domain.rules.pagination import Order
from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository

WEBHOOK_ENDPOINTS = "webhook_endpoints"
WEBHOOK_DELIVERIES = "webhook_deliveries"
ENDPOINT_ORDER = Order("webhook_endpoints", (("createdAt", 1), ("_id", 1)))
DELIVERY_ORDER = Order("webhook_deliveries", (("eventSeq", -1), ("_id", -1)))


class WebhookEndpointRepository(Repository):
    collection = WEBHOOK_ENDPOINTS

    async def used_slots(self, owner_org_id: str, *, session: Session | None = None) -> list[int]:
        docs = await self.db.find(self.collection, {"ownerOrgId": owner_org_id}, projection={"slot": 1},
                                  session=session)
        return [int(d["slot"]) for d in docs]

    async def save(self, doc: Mapping[str, Any], *, expected_version: int, session: Session | None = None) -> bool:
        """Store a changed endpoint if it still has `expected_version` (False: it changed meanwhile)."""
        fields = {k: v for k, v in doc.items() if k != "_id"}
        result = await self.db.collection(self.collection).update_one(
            {"_id": doc["_id"], "version": expected_version}, {"$set": fields}, session=session)
        return bool(result.matched_count)

    async def due(self, now: datetime, limit: int) -> list[str]:
        """Active endpoints the sender should look at: caught up (new events may have come) or with an attempt due,
        and not held by a sender."""
        docs = await self.db.find(self.collection, {
            "state": "active",
            "$and": [{"$or": [{"dueAt": None}, {"dueAt": {"$lte": now}}]},
                     {"$or": [{"leaseUntil": None}, {"leaseUntil": {"$lt": now}}]}]},
            projection={"_id": 1}, sort=[("dueAt", 1), ("_id", 1)], limit=limit)
        return [d["_id"] for d in docs]

    async def claim(self, endpoint_id: str, owner: str, now: datetime, until: datetime) -> Document | None:
        """Hold an active endpoint for one sender until `until` (None: inactive, or another sender holds it)."""
        doc: Document | None = await self.db.collection(self.collection).find_one_and_update(
            {"_id": endpoint_id, "state": "active",
             "$or": [{"leaseUntil": None}, {"leaseUntil": {"$lt": now}}, {"leaseOwner": owner}]},
            {"$set": {"leaseUntil": until, "leaseOwner": owner}}, return_document=ReturnDocument.AFTER)
        return doc

    async def release(self, endpoint_id: str, owner: str) -> None:
        await self.db.collection(self.collection).update_one(
            {"_id": endpoint_id, "leaseOwner": owner}, {"$set": {"leaseUntil": None, "leaseOwner": None}})

    async def set_progress(self, endpoint_id: str, fields: Mapping[str, Any], *, only_if_active: bool = False,
                           session: Session | None = None) -> bool:
        """The sender's bookkeeping (cursor, retries, failure clock), without touching what users set."""
        filter: dict[str, Any] = {"_id": endpoint_id}
        if only_if_active:
            filter["state"] = "active"
        result = await self.db.collection(self.collection).update_one(filter, {"$set": dict(fields)},
                                                                      session=session)
        return bool(result.matched_count)


class WebhookDeliveryRepository(Repository):
    collection = WEBHOOK_DELIVERIES

    async def record_attempt(self, delivery_id: str, fields: Mapping[str, Any], attempt: Mapping[str, Any],
                             created_at: datetime, *, session: Session | None = None) -> None:
        """Add an attempt to a delivery, creating it with the first one (its id is the same on every attempt)."""
        await self.db.collection(self.collection).update_one(
            {"_id": delivery_id},
            {"$set": dict(fields), "$push": {"attempts": dict(attempt)}, "$setOnInsert": {"createdAt": created_at}},
            upsert=True, session=session)

    async def fail_pending(self, endpoint_id: str, *, session: Session | None = None) -> None:
        await self.db.collection(self.collection).update_many(
            {"endpointId": endpoint_id, "status": "pending"}, {"$set": {"status": "failed", "nextAttemptAt": None}},
            session=session)

    async def purge(self, before: datetime) -> int:
        """R-NOT-9: attempts are kept 7 days: finished deliveries last tried before `before` go."""
        return await self.delete({"lastAttemptAt": {"$lt": before}, "status": {"$ne": "pending"}})
