"""Storage of trials (DOMAIN.md §10). A document is `Trial.to_doc()`; `openKey` (owner and org, or owner and the new
org's admin email, while the trial is open) is unique, so an org has one open trial per partner (R-TRI-4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.rules.pagination import Order
from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository

TRIALS = "trials"

# The list orders of `trials(orderBy:)` (R-TRI-11: soonest ending first by default).
TRIAL_ORDERS: dict[str, Order] = {
    "ENDS_AT_ASC": Order("trials:ends_at_asc", (("endsAtKey", 1), ("createdAt", 1), ("_id", 1))),
    "CREATED_DESC": Order("trials:created_desc", (("createdAt", -1), ("_id", -1))),
}


class TrialRepository(Repository):
    collection = TRIALS

    async def open_for(self, key: str, *, session: Session | None = None) -> Document | None:
        doc: Document | None = await self.db.collection(self.collection).find_one({"openKey": key}, session=session)
        return doc

    async def open_of_org(self, org_id: str, *, session: Session | None = None) -> list[Document]:
        """Every open trial of a customer org, whoever owns it (R-TRI-4: services trialled by another partner)."""
        return await self.db.find(self.collection, {"orgId": org_id, "openKey": {"$exists": True}}, session=session)

    async def replace(self, doc: Document, *, expected_version: int, session: Session | None = None) -> bool:
        """Store a changed trial if it still has `expected_version` (False: it changed meanwhile)."""
        result = await self.db.collection(self.collection).replace_one(
            {"_id": doc["_id"], "version": expected_version}, doc, session=session)
        return bool(result.matched_count)

    async def matching(self, filter: Mapping[str, Any]) -> list[Document]:
        return await self.db.find(self.collection, dict(filter))
