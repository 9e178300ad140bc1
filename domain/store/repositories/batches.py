"""Storage of subscriber batches, their rows, uploaded CSV files and idempotency keys (DOMAIN.md §15).

A batch document: the `SubscriberBatch` model (domain/model/batches.py). A row document: `_id`
(`<batchId>:<rowNumber>`), `batchId`, `rowNumber` (1-based), `ownerOrgId`, `op` (the `RowOp` asked for),
`action` and `email` (what the row does, once known), `status`, `subscriberId`, `errors`, `expireAt`.
An upload: `_id` (upl_…), `ownerOrgId` (the uploading org), `content` (bytes), `size`, `createdAt`, `usedAt`,
`expireAt`. An idempotency key: `_id` (`<org>:<key>`), `batchId`, `fingerprint`, `expireAt`.
Batches, rows, uploads and keys leave with TTL indexes on `expireAt` (R-BULK-4: 90 days; uploads and keys 24 h).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import UpdateOne

from domain.rules.pagination import Order, Page, PageRequest, make_page, page_filter
from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository

SUBSCRIBER_BATCHES = "subscriber_batches"
SUBSCRIBER_BATCH_ROWS = "subscriber_batch_rows"
UPLOADS = "uploads"
IDEMPOTENCY_KEYS = "idempotency_keys"
UNFINISHED = ("queued", "running")

BATCH_ORDER = Order("batches-created-desc", (("createdAt", -1), ("_id", -1)))
BATCH_ROW_ORDER = Order("batch-rows", (("rowNumber", 1), ("_id", 1)))


def row_id(batch_id: str, row_number: int) -> str:
    return f"{batch_id}:{row_number:05d}"


class SubscriberBatchRepository(Repository):
    collection = SUBSCRIBER_BATCHES

    async def unfinished_of(self, customer_id: str, *, session: Session | None = None) -> list[Document]:
        """The customer's batches still to run or running, oldest first (R-BULK-3: one at a time)."""
        return await self.db.find(self.collection, {"customerId": customer_id, "status": {"$in": list(UNFINISHED)}},
                                  sort=[("queueSeq", 1), ("createdAt", 1), ("_id", 1)], session=session)

    async def replace(self, doc: Document, *, session: Session | None = None) -> None:
        await self.db.collection(self.collection).replace_one({"_id": doc["_id"]}, doc, session=session)

    async def first_pages(self, customer_ids: Sequence[str], request: PageRequest) -> dict[str, Page]:
        """The first page of batches (newest first) of each customer of a list, in one aggregation."""
        match = page_filter(BATCH_ORDER, {"customerId": {"$in": list(set(customer_ids))}}, request)
        pipeline: list[dict[str, Any]] = [
            {"$match": match},
            {"$group": {"_id": "$customerId", "docs": {"$topN": {
                "n": request.first + 1, "sortBy": dict(BATCH_ORDER.keys), "output": "$$ROOT"}}}}]
        grouped = {g["_id"]: g["docs"] for g in await self.db.aggregate(self.collection, pipeline)}
        return {cid: make_page(BATCH_ORDER, grouped.get(cid, []), request) for cid in customer_ids}

    async def counts_by_customer(self, customer_ids: Sequence[str]) -> dict[str, int]:
        pipeline: list[dict[str, Any]] = [{"$match": {"customerId": {"$in": list(set(customer_ids))}}},
                                          {"$group": {"_id": "$customerId", "n": {"$sum": 1}}}]
        return {g["_id"]: g["n"] for g in await self.db.aggregate(self.collection, pipeline)}


class BatchRowRepository(Repository):
    collection = SUBSCRIBER_BATCH_ROWS

    async def from_row(self, batch_id: str, first_row: int, limit: int, *,
                       session: Session | None = None) -> list[Document]:
        return await self.db.find(self.collection, {"batchId": batch_id, "rowNumber": {"$gte": first_row}},
                                  sort=[("rowNumber", 1)], limit=limit, session=session)

    async def record(self, results: Sequence[Mapping[str, Any]], *, session: Session | None = None) -> None:
        """Write the outcome of rows (each mapping has the row's `_id` and the fields to set)."""
        if results:
            await self.db.collection(self.collection).bulk_write(
                [UpdateOne({"_id": r["_id"]}, {"$set": {k: v for k, v in r.items() if k != "_id"}}) for r in results],
                ordered=True, session=session)

    async def skip_pending(self, batch_id: str, *, session: Session | None = None) -> int:
        result = await self.db.collection(self.collection).update_many(
            {"batchId": batch_id, "status": "pending"}, {"$set": {"status": "skipped"}}, session=session)
        n: int = result.modified_count
        return n

    async def stream(self, batch_id: str, size: int = 500) -> AsyncIterator[list[Document]]:
        async for rows in self.db.find_batches(self.collection, {"batchId": batch_id}, [("rowNumber", 1)], size):
            yield rows


class UploadRepository(Repository):
    collection = UPLOADS

    async def usable(self, upload_id: str, org_id: str, now: datetime, *,
                     session: Session | None = None) -> Document | None:
        """An upload of `org_id` not used yet and not expired (anything else is as if it did not exist)."""
        doc: Document | None = await self.db.collection(self.collection).find_one(
            {"_id": upload_id, "ownerOrgId": org_id, "usedAt": None, "expireAt": {"$gt": now}}, session=session)
        return doc

    async def use(self, upload_id: str, now: datetime, *, session: Session | None = None) -> bool:
        result = await self.db.collection(self.collection).update_one(
            {"_id": upload_id, "usedAt": None}, {"$set": {"usedAt": now}, "$unset": {"content": ""}}, session=session)
        return bool(result.modified_count)


class IdempotencyKeyRepository(Repository):
    collection = IDEMPOTENCY_KEYS

    async def live(self, org_id: str, key: str, now: datetime, *, session: Session | None = None) -> Document | None:
        doc: Document | None = await self.db.collection(self.collection).find_one(
            {"_id": f"{org_id}:{key}", "expireAt": {"$gt": now}}, session=session)
        return doc

    async def put(self, org_id: str, key: str, batch_id: str, fingerprint: str, expire_at: datetime, *,
                  session: Session | None = None) -> None:
        await self.db.collection(self.collection).replace_one(
            {"_id": f"{org_id}:{key}"},
            {"batchId": batch_id, "fingerprint": fingerprint, "expireAt": expire_at}, upsert=True, session=session)
