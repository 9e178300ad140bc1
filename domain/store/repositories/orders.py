"""Storage of orders (DOMAIN.md §12). A document is `Order.to_doc()`; lists go newest first by owner or root org."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.rules.filters import all_of
from domain.rules.pagination import Order as PageOrder
from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository

ORDERS = "orders"

# The list order of `orders(...)`: newest first.
ORDERS_NEWEST_FIRST = PageOrder("orders:created_desc", (("createdAt", -1), ("_id", -1)))


class OrderRepository(Repository):
    collection = ORDERS

    async def replace(self, doc: Document, *, expected_version: int, session: Session | None = None) -> bool:
        """Store a changed order if it still has `expected_version` (False: it changed meanwhile)."""
        result = await self.db.collection(self.collection).replace_one(
            {"_id": doc["_id"], "version": expected_version}, doc, session=session)
        return bool(result.matched_count)

    async def find_within(self, order_id: str, reach: Mapping[str, Any], *, session: Session | None = None
                          ) -> Document | None:
        """The order if it lies within `reach` (a visibility filter): else None, as for a missing one (R-ORG-6)."""
        doc: Document | None = await self.db.collection(self.collection).find_one(
            all_of({"_id": order_id}, reach), session=session)
        return doc

    async def of_trial(self, trial_id: str, *, session: Session | None = None) -> Document | None:
        doc: Document | None = await self.db.collection(self.collection).find_one({"trialId": trial_id},
                                                                                  session=session)
        return doc
