from __future__ import annotations

from collections.abc import Sequence

from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository


class LocationRepository(Repository):
    collection = "locations"

    async def by_customers(self, customer_ids: Sequence[str], *, session: Session | None = None
                           ) -> dict[str, list[Document]]:
        """All locations of a batch of customers, headquarters first."""
        docs = await self.db.find(
            self.collection,
            {"customerId": {"$in": list(set(customer_ids))}},
            sort=[("isHeadquarters", -1), ("createdAt", 1), ("_id", 1)],
            session=session,
        )
        grouped: dict[str, list[Document]] = {}
        for doc in docs:
            grouped.setdefault(doc["customerId"], []).append(doc)
        return grouped
