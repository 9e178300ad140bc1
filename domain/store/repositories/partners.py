from __future__ import annotations

from collections.abc import Sequence

from pymongo import ReturnDocument

from domain.model.entities import OrgKind, Partner, SubPartnerState
from domain.rules.pagination import Order, Page, PageRequest
from domain.store.driver import Database, Session
from domain.store.recent import Recent
from domain.store.repositories.base import Repository

PARTNER_ORDER = Order("partners.created", (("createdAt", 1), ("_id", 1)))


class PartnerRepository(Repository):
    collection = "partners"

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.recent: Recent[Partner] = Recent()  # the caller's org and a page's owners (domain.store.recent)

    async def recent_by_ids(self, ids: Sequence[str]) -> dict[str, Partner]:
        """Partners by id as read at most a moment ago (see domain.store.recent): to show them, or for the caller."""
        return await self.recent.read_through(ids, self._models)

    async def _models(self, ids: list[str]) -> dict[str, Partner]:
        return {i: Partner.from_doc(d) for i, d in (await self.by_ids(ids)).items()}

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
