"""Storage of resale customer orgs (DOMAIN.md §10, §12), their members and the names they claim (R-ORD-6).

- `customer_orgs`: one document per org, `CustomerOrg.to_doc()` plus `memberEmails` (admins and users, for the
  lookup by email, R-TRI-4).
- `customer_org_members`: `_id` = a lower-cased email, `orgId`: the unique `_id` keeps a user in one org only
  (002 step 6), whoever adds it, however concurrently.
- `name_claims`: `_id` = `<kind>:<name>` (kind ENTERPRISE or MEETINGS_SITE), `holder` = the entity that holds it
  (an order, a trial, an org). Inserting the claim in the claimer's transaction makes two racing claims of one name
  end with exactly one winner (R-ORD-6).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from domain.model.customer_orgs import CustomerOrg, CustomerOrgStatus, SubdomainKind
from domain.store.driver import Document, Session
from domain.store.repositories.base import Repository
from domain.store.repositories.customers import CustomerRepository
from domain.store.repositories.org_directory import OrgDirectoryRepository
from domain.store.repositories.subscribers import SubscriberRepository

CUSTOMER_ORGS = "customer_orgs"
CUSTOMER_ORG_MEMBERS = "customer_org_members"
NAME_CLAIMS = "name_claims"


def claim_key(kind: SubdomainKind, name: str) -> str:
    return f"{kind.value}:{name}"


class CustomerOrgRepository(Repository):
    collection = CUSTOMER_ORGS

    @staticmethod
    def document(org: CustomerOrg) -> Document:
        doc = org.to_doc()
        # A purged org keeps its record but nobody belongs to it any more (R-TRI-11).
        doc["memberEmails"] = [] if org.status is CustomerOrgStatus.PURGED else list(org.member_emails)
        return doc

    async def get(self, org_id: str, *, session: Session | None = None) -> CustomerOrg | None:
        doc = await self.find_doc(org_id, session=session)
        return CustomerOrg.from_doc(doc) if doc else None

    async def with_member(self, email: str, *, session: Session | None = None) -> CustomerOrg | None:
        """The (not purged) org this address belongs to, as an admin or a user."""
        doc: Document | None = await self.db.collection(self.collection).find_one(
            {"memberEmails": email, "status": {"$ne": CustomerOrgStatus.PURGED.value}}, session=session)
        return CustomerOrg.from_doc(doc) if doc else None

    async def many(self, org_ids: Sequence[str]) -> dict[str, CustomerOrg]:
        return {k: CustomerOrg.from_doc(d) for k, d in (await self.by_ids(org_ids)).items()}

    async def add(self, org: CustomerOrg, *, session: Session | None = None) -> None:
        await self.insert(self.document(org), session=session)

    async def wholesale_customer_of(self, email: str, *, session: Session | None = None) -> Document | None:
        """The wholesale customer whose org `email` belongs to: its admin (`primaryEmail`) or one of its subscribers
        (read-only: the wholesale side's orgs are in the same directory, §10)."""
        doc: Document | None = await self.db.collection(CustomerRepository.collection).find_one(
            {"primaryEmail": email}, session=session)
        if doc is None:
            sub = await self.db.collection(SubscriberRepository.collection).find_one(
                {"email": email}, {"customerId": 1}, session=session)
            if sub is not None:
                doc = await self.db.collection(CustomerRepository.collection).find_one(
                    {"_id": sub["customerId"]}, session=session)
        return doc

    async def directory_org_of(self, email: str, *, session: Session | None = None) -> Document | None:
        """The R-ATT directory's org (`gateway orgs load --users`) one of whose users `email` is."""
        doc: Document | None = await self.db.collection(OrgDirectoryRepository.collection).find_one(
            {"orgUsers.email": email}, session=session)
        return doc

    async def replace(self, org: CustomerOrg, *, expected_version: int, session: Session | None = None) -> bool:
        """Store a changed org if it still has `expected_version` (False: it changed meanwhile)."""
        result = await self.db.collection(self.collection).replace_one(
            {"_id": org.id, "version": expected_version}, self.document(org), session=session)
        return bool(result.matched_count)


class OrgMemberRepository(Repository):
    collection = CUSTOMER_ORG_MEMBERS

    async def org_of(self, email: str, *, session: Session | None = None) -> str | None:
        doc = await self.find_doc(email, session=session)
        return str(doc["orgId"]) if doc else None

    async def join(self, email: str, org_id: str, at: datetime, *, session: Session | None = None) -> None:
        """Raises DuplicateKey when the address belongs to an org already."""
        await self.insert({"_id": email, "orgId": org_id, "at": at}, session=session)

    async def leave_all(self, org_id: str, *, session: Session | None = None) -> int:
        return await self.delete({"orgId": org_id}, session=session)


class NameClaimRepository(Repository):
    collection = NAME_CLAIMS

    async def holder(self, kind: SubdomainKind, name: str, *, session: Session | None = None) -> str | None:
        doc = await self.find_doc(claim_key(kind, name), session=session)
        return str(doc["holder"]) if doc else None

    async def claim(self, kind: SubdomainKind, name: str, holder: str, at: datetime, *,
                    session: Session | None = None) -> None:
        """Raises DuplicateKey when the name is held already (by anyone)."""
        await self.insert({"_id": claim_key(kind, name), "kind": kind.value, "name": name, "holder": holder,
                           "at": at}, session=session)

    async def release(self, kind: SubdomainKind, name: str, holder: str | None = None, *,
                      session: Session | None = None) -> int:
        """Free the name (only if `holder` holds it, when given)."""
        filter: dict[str, str] = {"_id": claim_key(kind, name)}
        if holder is not None:
            filter["holder"] = holder
        return await self.delete(filter, session=session)

    async def transfer(self, from_holder: str, to_holder: str, *, session: Session | None = None) -> None:
        await self.db.collection(self.collection).update_many({"holder": from_holder},
                                                              {"$set": {"holder": to_holder}}, session=session)
