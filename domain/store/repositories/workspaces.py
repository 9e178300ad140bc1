"""Storage of workspaces (DOMAIN.md §14). A document is `domain.model.workspaces.Workspace.to_doc()`; `nameKey`
(the name as compared, R-WS-1) and the numbers are unique per customer by index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.model.workspaces import HOLDING_WORKSPACE_STATUSES
from domain.rules.pagination import Order, Page, PageRequest, make_page, page_filter
from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository

WORKSPACES = "workspaces"
WORKSPACE_ORDER = Order("WORKSPACES", (("createdAt", 1), ("_id", 1)))


class WorkspaceRepository(Repository):
    collection = WORKSPACES

    async def of_customer(self, customer_id: str, *, session: Session | None = None) -> list[Document]:
        return await self.db.find(self.collection, {"customerId": customer_id}, session=session)

    async def holding(self, customer_id: str, *, session: Session | None = None) -> int:
        """Workspaces of a customer holding its common_area_calling now (R-WS-1 limits)."""
        n: int = await self.db.collection(self.collection).count_documents(
            {"customerId": customer_id, "status": {"$in": [s.value for s in HOLDING_WORKSPACE_STATUSES]}},
            session=session)
        return n

    async def holding_counts(self, customer_ids: Sequence[str]) -> dict[str, int]:
        """Workspaces holding their package now, per customer of a batch."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"customerId": {"$in": list(set(customer_ids))},
                        "status": {"$in": [s.value for s in HOLDING_WORKSPACE_STATUSES]}}},
            {"$group": {"_id": "$customerId", "n": {"$sum": 1}}},
        ]
        return {g["_id"]: g["n"] for g in await self.db.aggregate(self.collection, pipeline)}

    async def taken(self, customer_id: str, field: str, value: str, exclude: str | None = None, *,
                    session: Session | None = None) -> bool:
        """Whether another workspace of the customer has `value` in `field` (a name key or a number)."""
        # Equality only (see SubscriberRepository.number_taken), the one to leave out skipped here.
        holders = await self.db.find(self.collection, {"customerId": customer_id, field: value}, limit=2,
                                     projection={"_id": 1}, session=session)
        return any(doc["_id"] != exclude for doc in holders)

    async def first_pages(self, customer_ids: Sequence[str], request: PageRequest) -> dict[str, Page]:
        """The first page of workspaces of each customer in a batch, in one aggregation."""
        match = page_filter(WORKSPACE_ORDER, {"customerId": {"$in": list(set(customer_ids))}}, request)
        pipeline: list[dict[str, Any]] = [
            {"$match": match},
            {"$group": {"_id": "$customerId", "docs": {
                "$topN": {"n": request.first + 1, "sortBy": dict(WORKSPACE_ORDER.keys), "output": "$$ROOT"}}}},
        ]
        grouped = {g["_id"]: g["docs"] for g in await self.db.aggregate(self.collection, pipeline)}
        return {cid: make_page(WORKSPACE_ORDER, grouped.get(cid, []), request) for cid in customer_ids}

    async def counts_by_customer(self, customer_ids: Sequence[str]) -> dict[str, int]:
        pipeline: list[dict[str, Any]] = [
            {"$match": {"customerId": {"$in": list(set(customer_ids))}}},
            {"$group": {"_id": "$customerId", "n": {"$sum": 1}}},
        ]
        return {g["_id"]: g["n"] for g in await self.db.aggregate(self.collection, pipeline)}

    async def replace(self, doc: Mapping[str, Any], *, session: Session | None = None) -> None:
        await self.db.collection(self.collection).replace_one({"_id": doc["_id"]}, dict(doc), session=session)
