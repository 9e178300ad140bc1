from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from domain.model.entities import HOLDING_STATUSES, SubscriberStatus
from domain.rules.filters import all_of
from domain.rules.pagination import Order, Page, PageRequest, make_page, page_filter
from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository

SUBSCRIBER_ORDERS: dict[str, Order] = {
    o.name: o
    for o in (
        Order("CREATED_DESC", (("createdAt", -1), ("_id", -1))),
        Order("CREATED_ASC", (("createdAt", 1), ("_id", 1))),
        Order("LAST_STATUS_CHANGE_DESC", (("lastStatusChange", -1), ("_id", -1))),
    )
}


@dataclass(frozen=True)
class SubscriberCriteria:
    """The attribute part of a subscriber list filter (ownership is applied separately)."""

    customer_ids: Sequence[str] | None = None
    email: str | None = None
    status: SubscriberStatus | None = None
    package: str | None = None
    last_status_change_after: datetime | None = None
    add_on: str | None = None  # R-ADD-1: subscribers holding this add-on
    location_id: str | None = None  # R-LOCN-2: subscribers placed at this location
    person_id: str | None = None  # R-IDS-1: the subscriber with this Webex person id

    def to_filter(self) -> dict[str, Any]:
        filter: dict[str, Any] = {}
        if self.customer_ids is not None:
            filter["customerId"] = {"$in": list(self.customer_ids)}
        if self.email is not None:
            filter["email"] = self.email.strip().lower()
        if self.status is not None:
            filter["status"] = self.status.value
        if self.package is not None:
            filter["package"] = self.package
        if self.last_status_change_after is not None:
            filter["lastStatusChange"] = {"$gt": self.last_status_change_after}
        if self.add_on is not None:
            filter["addOns"] = self.add_on
        if self.location_id is not None:
            filter["locationId"] = self.location_id
        if self.person_id is not None:
            filter["personId"] = self.person_id
        return filter


class SubscriberRepository(Repository):
    collection = "subscribers"

    async def first_pages(
        self, customer_ids: Sequence[str], criteria: Mapping[str, Any], order: Order, request: PageRequest
    ) -> dict[str, Page]:
        """The first page of subscribers of each customer in a batch, in one aggregation."""
        batch = all_of(criteria, {"customerId": {"$in": list(set(customer_ids))}})
        match = page_filter(order, batch, request)
        pipeline: list[dict[str, Any]] = [
            {"$match": match},
            {
                "$group": {
                    "_id": "$customerId",
                    "docs": {"$topN": {"n": request.first + 1, "sortBy": dict(order.keys), "output": "$$ROOT"}},
                }
            },
        ]
        grouped = {g["_id"]: g["docs"] for g in await self.db.aggregate(self.collection, pipeline)}
        return {cid: make_page(order, grouped.get(cid, []), request) for cid in customer_ids}

    async def counts_by_customer(self, customer_ids: Sequence[str], criteria: Mapping[str, Any]) -> dict[str, int]:
        pipeline: list[dict[str, Any]] = [
            {"$match": all_of(criteria, {"customerId": {"$in": list(set(customer_ids))}})},
            {"$group": {"_id": "$customerId", "n": {"$sum": 1}}},
        ]
        return {g["_id"]: g["n"] for g in await self.db.aggregate(self.collection, pipeline)}

    _HELD: ClassVar[list[dict[str, Any]]] = [
        {"$match": {"status": {"$in": [s.value for s in HOLDING_STATUSES]}}},
        # R-ADD-1: a subscriber holding an add-on counts towards that package too.
        {"$project": {"customerId": 1, "held": {"$concatArrays": [["$package"], {"$ifNull": ["$addOns", []]}]}}},
        {"$unwind": "$held"},
        {"$group": {"_id": {"c": "$customerId", "p": "$held"}, "n": {"$sum": 1}}},
    ]

    async def assigned_counts(self, customer_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        """How many subscribers hold each package now, per (customer, package)."""
        pipeline = [{"$match": {"customerId": {"$in": list(set(customer_ids))}}}, *self._HELD]
        rows: list[Document] = await self.db.aggregate(self.collection, pipeline)
        return {(r["_id"]["c"], r["_id"]["p"]): r["n"] for r in rows}

    async def stats(self, customer_ids: Sequence[str]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        """Each customer's subscribers (all of them) and how many hold each package now, per (customer, package):
        `counts_by_customer` without criteria and `assigned_counts` in one pass over the customers' subscribers."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"customerId": {"$in": list(set(customer_ids))}}},
            {"$facet": {"all": [{"$group": {"_id": "$customerId", "n": {"$sum": 1}}}], "held": self._HELD}},
        ]
        [facets] = await self.db.aggregate(self.collection, pipeline)
        return ({r["_id"]: r["n"] for r in facets["all"]},
                {(r["_id"]["c"], r["_id"]["p"]): r["n"] for r in facets["held"]})

    async def of_customer(self, customer_id: str, *, session: Session | None = None) -> list[Document]:
        return await self.db.find(self.collection, {"customerId": customer_id}, session=session)

    async def by_email(self, email: str, *, session: Session | None = None) -> Document | None:
        doc: Document | None = await self.db.collection(self.collection).find_one({"email": email}, session=session)
        return doc

    async def holding(self, customer_id: str, package: str, *, session: Session | None = None) -> int:
        """Subscribers of a customer holding `package` now (R-PKG-6 limits)."""
        n: int = await self.db.collection(self.collection).count_documents(
            {"customerId": customer_id, "package": package, "status": {"$in": [s.value for s in HOLDING_STATUSES]}},
            session=session)
        return n

    async def holding_add_ons(self, customer_id: str, add_ons: Sequence[str], exclude: str | None = None, *,
                              session: Session | None = None) -> dict[str, int]:
        """How many subscribers of a customer (but `exclude`) hold each of `add_ons` now (R-ADD-1 limits)."""
        if not add_ons:
            return {}
        filter: dict[str, Any] = {"customerId": customer_id, "addOns": {"$in": list(add_ons)},
                                  "status": {"$in": [s.value for s in HOLDING_STATUSES]}}
        if exclude is not None:
            filter["_id"] = {"$ne": exclude}
        rows: list[Document] = await self.db.aggregate(self.collection, [
            {"$match": filter}, {"$unwind": "$addOns"}, {"$match": {"addOns": {"$in": list(add_ons)}}},
            {"$group": {"_id": "$addOns", "n": {"$sum": 1}}}], session=session)
        return {str(r["_id"]): int(r["n"]) for r in rows}

    async def number_taken(self, customer_id: str, field: str, value: str, exclude: str | None = None, *,
                           session: Session | None = None) -> bool:
        # Equality only, and the one to leave out skipped here: with `_id: {$ne: ...}` in the filter a planner may
        # scan the customer's subscribers instead of using the number index (SecantusDB does).
        holders = await self.db.find(self.collection, {"customerId": customer_id, field: value}, limit=2,
                                     projection={"_id": 1}, session=session)
        return any(doc["_id"] != exclude for doc in holders)

    async def replace(self, doc: Document, *, session: Session | None = None) -> None:
        await self.db.collection(self.collection).replace_one({"_id": doc["_id"]}, doc, session=session)
