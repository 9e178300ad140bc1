from __future__ import annotations

from collections.abc import Sequence

from pymongo import UpdateOne

from domain.rules.attach import DirectoryOrg
from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository
from domain.store.repositories.customers import CustomerRepository


class OrgDirectoryRepository(Repository):
    """The directory of existing Webex orgs Wholesale may be attached to (R-ATT-1).

    An entry also records which customer holds its org (`attachedTo`): claiming it in the transaction that creates
    the customer makes two concurrent attaches of one org conflict, so only one can win.
    """

    collection = "org_directory"

    async def get(self, org_id: str, *, session: Session | None = None) -> DirectoryOrg | None:
        doc = await self.find_doc(org_id, session=session)
        return DirectoryOrg.from_doc(doc) if doc else None

    async def load(self, orgs: Sequence[DirectoryOrg]) -> int:
        """Insert or update entries by org id (loading a file twice changes nothing); a claim is kept."""
        ops = [UpdateOne({"_id": o.id}, {"$set": {k: v for k, v in o.to_doc().items() if k != "_id"}}, upsert=True)
               for o in orgs]
        for start in range(0, len(ops), 1000):
            await self.db.collection(self.collection).bulk_write(ops[start:start + 1000], ordered=False)
        return len(orgs)

    async def held_by_customer(self, org_id: str, *, session: Session | None = None) -> bool:
        """Whether any customer (anyone's, in any status) holds this org (R-ATT-1: already wholesale)."""
        doc: Document | None = await self.db.collection(CustomerRepository.collection).find_one(
            {"orgId": org_id}, {"_id": 1}, session=session)
        return doc is not None

    async def claim(self, org_id: str, customer_id: str, *, session: Session | None = None) -> bool:
        """Mark the org as held by `customer_id`; False when another customer holds it already."""
        result = await self.db.collection(self.collection).update_one(
            {"_id": org_id, "attachedTo": None}, {"$set": {"attachedTo": customer_id}}, session=session)
        return bool(result.modified_count == 1)

    async def release(self, org_id: str, customer_id: str, *, session: Session | None = None) -> None:
        """The customer that held the org is gone (R-ATT-3: only Wholesale was removed); it may be attached again."""
        await self.db.collection(self.collection).update_one(
            {"_id": org_id, "attachedTo": customer_id}, {"$set": {"attachedTo": None}}, session=session)
