"""Storage of Setup Assist requests (DOMAIN.md §18). A document is `SetupAssistRequest.to_doc()`; `openKey` (the
location's id while the request is open) is unique, so a location never has two open requests (R-SA-1)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository

SETUP_ASSIST_REQUESTS = "setup_assist_requests"


class SetupAssistRepository(Repository):
    collection = SETUP_ASSIST_REQUESTS

    async def open_for(self, location_id: str, *, session: Session | None = None) -> Document | None:
        doc: Document | None = await self.db.collection(self.collection).find_one({"openKey": location_id},
                                                                                  session=session)
        return doc

    async def by_customers(self, customer_ids: Sequence[str]) -> dict[str, list[Document]]:
        """Every request of a batch of customers, newest first."""
        docs = await self.db.find(self.collection, {"customerId": {"$in": list(set(customer_ids))}},
                                  sort=[("createdAt", -1), ("_id", -1)])
        grouped: dict[str, list[Document]] = {}
        for doc in docs:
            grouped.setdefault(doc["customerId"], []).append(doc)
        return grouped

    async def replace(self, doc: Document, *, expected_version: int, session: Session | None = None) -> bool:
        """Store a moved request if it still has `expected_version` (False: it moved meanwhile)."""
        result = await self.db.collection(self.collection).replace_one(
            {"_id": doc["_id"], "version": expected_version}, doc, session=session)
        return bool(result.matched_count)
