"""Storage of trial device shipments (DOMAIN.md §10, R-TRI-7). A document is `DeviceShipment.to_doc()`.

(trialId, deviceType) is unique, so a trial has one shipment per device type, ever (SHIPMENT_EXISTS); the tracking
number is unique (sparse: only shipped ones have one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.rules.filters import all_of
from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository

DEVICE_SHIPMENTS = "device_shipments"


class ShipmentRepository(Repository):
    collection = DEVICE_SHIPMENTS

    async def of_trial(self, trial_id: str, *, session: Session | None = None) -> list[Document]:
        return await self.db.find(self.collection, {"trialId": trial_id}, sort=[("createdAt", 1), ("_id", 1)],
                                  session=session)

    async def of_trials(self, trial_ids: Sequence[str]) -> dict[str, list[Document]]:
        """Every shipment of a batch of trials (one `$in`), oldest first."""
        docs = await self.db.find(self.collection, {"trialId": {"$in": list(set(trial_ids))}},
                                  sort=[("createdAt", 1), ("_id", 1)])
        grouped: dict[str, list[Document]] = {}
        for doc in docs:
            grouped.setdefault(doc["trialId"], []).append(doc)
        return grouped

    async def by_tracking_number(self, tracking_number: str, scope: Mapping[str, Any] | None) -> Document | None:
        """The shipment with this tracking number within `scope` (an owner filter; None: anyone's)."""
        filter: dict[str, Any] = {"trackingNumber": tracking_number}
        if scope is not None:
            filter = all_of(filter, scope)
        doc: Document | None = await self.db.collection(self.collection).find_one(filter)
        return doc

    async def replace(self, doc: Document, *, expected_version: int, session: Session | None = None) -> bool:
        """Store a changed shipment if it still has `expected_version` (False: it changed meanwhile)."""
        result = await self.db.collection(self.collection).replace_one(
            {"_id": doc["_id"], "version": expected_version}, doc, session=session)
        return bool(result.matched_count)
