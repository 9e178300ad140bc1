from __future__ import annotations

from collections.abc import Sequence

from pymongo import ReplaceOne

from domain.rules.rpl import RplEntry
from domain.store.driver import Document
from domain.store.repositories.base import Repository

LIST_VERSION_ID = "rpl-list"


class RplRepository(Repository):
    """The restricted-party list (R-RPL-4), and a version number that changes whenever it is loaded."""

    collection = "rpl_entries"

    async def all(self) -> list[RplEntry]:
        return [RplEntry.from_doc(d) for d in await self.db.find(self.collection, {})]

    async def load(self, entries: Sequence[RplEntry]) -> int:
        """Insert or replace entries by their stable id (loading the same file twice changes nothing)."""
        if entries:
            ops = [ReplaceOne({"_id": e.id}, e.to_doc(), upsert=True) for e in entries]
            for start in range(0, len(ops), 1000):
                await self.db.collection(self.collection).bulk_write(ops[start:start + 1000], ordered=False)
        await self.db.collection("counters").update_one({"_id": LIST_VERSION_ID}, {"$inc": {"seq": 1}}, upsert=True)
        return len(entries)

    async def version(self) -> int:
        doc: Document | None = await self.db.collection("counters").find_one({"_id": LIST_VERSION_ID})
        return int(doc["seq"]) if doc else 0
