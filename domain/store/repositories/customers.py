from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.model.entities import Customer, CustomerStatus
from domain.model.errors import DomainError, ErrorCode
from domain.rules.filters import all_of
from domain.rules.pagination import Order, Page, PageRequest
from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository

CUSTOMER_ORDERS: dict[str, Order] = {
    o.name: o
    for o in (
        Order("CREATED_DESC", (("createdAt", -1), ("_id", -1))),
        Order("CREATED_ASC", (("createdAt", 1), ("_id", 1))),
        Order("NAME_ASC", (("nameSort", 1), ("_id", 1))),
        Order("LAST_STATUS_CHANGE_DESC", (("lastStatusChange", -1), ("_id", -1))),
    )
}

# The compliance queue: the review that times out first comes first.
REVIEW_ORDER = Order("rpl.review", (("compliance.reviewDeadline", 1), ("_id", 1)))


@dataclass(frozen=True)
class CustomerCriteria:
    """The attribute part of a customer list filter (ownership is applied separately)."""

    external_id: str | None = None
    org_id: str | None = None
    statuses: Sequence[CustomerStatus] | None = None
    name_contains: str | None = None

    def to_filter(self) -> dict[str, Any]:
        filter: dict[str, Any] = {}
        if self.external_id is not None:
            filter["externalId"] = self.external_id
        if self.org_id is not None:
            filter["orgId"] = self.org_id
        if self.statuses is not None:
            filter["status"] = {"$in": [s.value for s in self.statuses]}
        if self.name_contains:
            filter["name"] = {"$regex": re.escape(self.name_contains), "$options": "i"}
        return filter


# Written beside a customer's state without a new version (`set_fields`, by the subscriber and batch writes that
# serialise on the customer): a state derived from a copy read before them must not overwrite them.
SIDE_FIELDS = ("adminSubscriberId",)


def name_sort_key(name: str) -> str:
    return name.casefold()


class CustomerRepository(Repository):
    collection = "customers"

    async def ids_by_external_id(self, scope: Mapping[str, Any], external_id: str) -> list[str]:
        docs = await self.db.find(
            self.collection, all_of(scope, {"externalId": external_id}), projection={"_id": 1}
        )
        return [d["_id"] for d in docs]

    async def insert_customers(self, customers: Sequence[Customer], *, session: Session | None = None) -> None:
        await self.insert_many([self._doc(c) for c in customers], session=session)

    @staticmethod
    def _doc(c: Customer) -> Document:
        return {**c.to_doc(), "nameSort": name_sort_key(c.name)}

    async def write_state(self, customer: Customer, *, expected_version: int, session: Session) -> bool:
        """Write a customer's new state over the version it was derived from, without reading it again: the
        fields written beside the state with no new version (SIDE_FIELDS, and the conflict markers of
        `set_fields`) keep what is stored. False, writing nothing, when the version moved on meanwhile."""
        doc = self._doc(customer)
        for name in ("_id", *SIDE_FIELDS):
            doc.pop(name, None)
        result = await self.db.collection(self.collection).update_one(
            {"_id": customer.id, "version": expected_version}, {"$set": doc}, session=session)
        return bool(result.matched_count == 1)

    async def replace(self, customer: Customer, *, expected_version: int, session: Session | None = None) -> None:
        """Write a customer's new state, only over the version it was derived from (optimistic concurrency)."""
        result = await self.db.collection(self.collection).replace_one(
            {"_id": customer.id, "version": expected_version}, self._doc(customer), session=session)
        if result.matched_count != 1:
            raise DomainError.single(ErrorCode.INVALID_STATE, "the customer changed meanwhile; read it and retry")

    _PENDING_REVIEW = {"status": CustomerStatus.PENDING_RPL_REVIEW.value, "compliance.state": "under_review"}

    async def pending_review(self, request: PageRequest) -> Page:
        return await self.page(self._PENDING_REVIEW, REVIEW_ORDER, request)

    async def count_pending_review(self) -> int:
        return await self.count(self._PENDING_REVIEW)
