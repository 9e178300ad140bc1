from __future__ import annotations

from pymongo import ReturnDocument

from domain.model.entities import OrgKind, Partner, SubPartnerState
from domain.rules.pagination import Order, Page, PageRequest
from domain.store.driver import Session
from domain.store.repositories.base import KeptRepository

PARTNER_ORDER = Order("partners.created", (("createdAt", 1), ("_id", 1)))


class PartnerRepository(KeptRepository[Partner]):
    """Partners; the caller's org and a page's owners are kept a moment (`recent_by_ids`, `recent_one`)."""

    collection = "partners"
    model = Partner

    async def recent_one(self, partner_id: str) -> Partner | None:
        return (await self.recent_by_ids([partner_id])).get(partner_id)

    async def family(self, root_id: str) -> list[Partner]:
        """A partner and all its sub-partners."""
        docs = await self.db.find(self.collection, {"$or": [{"_id": root_id}, {"parentId": root_id}]})
        return [Partner.from_doc(d) for d in docs]

    async def get(self, partner_id: str) -> Partner | None:
        doc = await self.db.collection(self.collection).find_one({"_id": partner_id})
        return Partner.from_doc(doc) if doc else None

    async def top_level(self, request: PageRequest) -> Page:
        return await self.page({"kind": OrgKind.PARTNER.value}, PARTNER_ORDER, request)

    async def count_top_level(self) -> int:
        return await self.count({"kind": OrgKind.PARTNER.value})

    def sub_partner_filter(self, parent_id: str, state: SubPartnerState | None) -> dict[str, str]:
        filter = {"parentId": parent_id}
        if state is not None:
            filter["provisioningState"] = state.value
        return filter

    async def set_notification_emails(self, partner_id: str, emails: list[str], *, session: Session | None = None
                                      ) -> Partner | None:
        """R-NOT-3: replace the org's partner-admin addresses; the org as it is then (None: no such org)."""
        self.recent.forget([partner_id])
        doc = await self.db.collection(self.collection).find_one_and_update(
            {"_id": partner_id}, {"$set": {"notificationEmails": emails}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER, session=session)
        return Partner.from_doc(doc) if doc else None

    async def set_state(self, partner_id: str, state: SubPartnerState, *, session: Session | None = None) -> int:
        """Set a sub-partner's state; returns its new version."""
        self.recent.forget([partner_id])
        doc = await self.db.collection(self.collection).find_one_and_update(
            {"_id": partner_id}, {"$set": {"provisioningState": state.value}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER, session=session)
        return int(doc["version"])
