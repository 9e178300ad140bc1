from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository

# What may sit at a location (R-LOCN-2): subscribers, and the workspaces of DOMAIN.md §14 (a collection that is
# simply empty where there are none).
_SUBSCRIBERS = "subscribers"
_WORKSPACES = "workspaces"
_INACTIVE = ("deleting", "error")


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

    async def replace(self, doc: Document, *, expected_version: int, session: Session | None = None) -> bool:
        """Store a changed location if it still has `expected_version`; False when it changed or left meanwhile."""
        result = await self.db.collection(self.collection).replace_one(
            {"_id": doc["_id"], "$or": [{"version": expected_version}, {"version": {"$exists": False}}]}, doc,
            session=session)
        return bool(result.matched_count)

    async def _counts(self, collection: str, location_ids: Sequence[str], extra: dict[str, Any],
                      session: Session | None) -> dict[str, int]:
        pipeline: list[dict[str, Any]] = [
            {"$match": {"locationId": {"$in": list(set(location_ids))}, **extra}},
            {"$group": {"_id": "$locationId", "n": {"$sum": 1}}},
        ]
        return {g["_id"]: g["n"] for g in await self.db.aggregate(collection, pipeline, session=session)}

    async def subscriber_counts(self, location_ids: Sequence[str], *, packages: Sequence[str] | None = None,
                                active: bool = False, session: Session | None = None) -> dict[str, int]:
        """Subscribers placed at each location of a batch: in any status, or only `active` ones (neither being
        deleted nor failed); holding any package, or one of `packages`."""
        extra: dict[str, Any] = {"package": {"$in": list(packages)}} if packages is not None else {}
        if active:
            extra["status"] = {"$nin": list(_INACTIVE)}
        return await self._counts(_SUBSCRIBERS, location_ids, extra, session)

    async def workspace_counts(self, location_ids: Sequence[str], *, active: bool = False,
                               session: Session | None = None) -> dict[str, int]:
        """Workspaces placed at each location of a batch: in any status, or only `active` ones."""
        return await self._counts(_WORKSPACES, location_ids, {"status": {"$nin": list(_INACTIVE)}} if active else {},
                                  session)
