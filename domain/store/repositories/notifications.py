"""The email outbox (`notifications`, DOMAIN.md §13): written by units of work (`Tx.notify`), leased and updated by
the sender (gateway.mail), read by `notifications` (R-NOT-5). A document is `OutboxNotification.to_doc()`.

`key` is unique (R-NOT-1): the write is an upsert on it, so the same occasion written again (a timer that fires
twice, a retried transaction) leaves the first notification as it is and never aborts the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from domain.model.notifications import NotificationStatus
from domain.rules.pagination import Order
from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository

NOTIFICATIONS = "notifications"
NOTIFICATION_ORDER = Order("notifications.created", (("createdAt", -1), ("_id", -1)))
QUEUED, SENDING = NotificationStatus.QUEUED.value, NotificationStatus.SENDING.value


class NotificationRepository(Repository):
    collection = NOTIFICATIONS

    async def add(self, doc: Document, *, session: Session) -> None:
        """Write a notification unless one with its key exists (R-NOT-1)."""
        fields = {k: v for k, v in doc.items() if k != "key"}
        await self.db.collection(self.collection).update_one({"key": doc["key"]}, {"$setOnInsert": fields},
                                                             upsert=True, session=session)

    async def claim(self, now: datetime, owner: str, lease_until: datetime) -> Document | None:
        """Lease one notification due now: queued and due, or `sending` under a lapsed lease (its sender died:
        at least once, R-NOT-2). Two senders never hold the same one at once."""
        doc: Document | None = await self.db.collection(self.collection).find_one_and_update(
            {"$or": [{"status": QUEUED, "nextAttemptAt": {"$lte": now}},
                     {"status": SENDING, "leaseUntil": {"$lt": now}}]},
            {"$set": {"status": SENDING, "leaseOwner": owner, "leaseUntil": lease_until}},
            sort=[("nextAttemptAt", 1), ("_id", 1)], return_document=ReturnDocument.AFTER)
        return doc

    async def settle(self, notification_id: str, owner: str, fields: Mapping[str, Any]) -> bool:
        """Record an attempt's outcome if `owner` still holds the lease (False: another sender took it over)."""
        result = await self.db.collection(self.collection).update_one(
            {"_id": notification_id, "status": SENDING, "leaseOwner": owner},
            {"$set": {**fields, "leaseOwner": None, "leaseUntil": None}, "$inc": {"attempts": 1}})
        return bool(result.modified_count)

    async def purge(self, before: datetime) -> int:
        """R-NOT-2: notifications are kept 30 days."""
        return await self.delete({"createdAt": {"$lt": before}})
